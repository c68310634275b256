// A display formula wider than its column can be scrolled from the keyboard.
//
// The theme lets such a formula scroll sideways in its own box, which a mouse or a finger
// can do; a keyboard can scroll only what it can focus. _config.yml takes every formula
// out of the tab order (MathJax puts each in it, a hundred stops before a chapter's
// explorer), so each formula that does not fit is put back, and only while it does not
// fit: a ResizeObserver sees a window made narrower and a solution opened, whose formulas
// have no width while they are hidden.
window.addEventListener("load", () => {
  // By the load event MathJax's script has run, deferred or not, on a page with maths.
  const typeset = window.MathJax && MathJax.startup && MathJax.startup.promise;
  if (!typeset || !window.ResizeObserver) return;
  typeset.then(() => {
    const observer = new ResizeObserver((entries) => {
      for (const { target } of entries) {
        if (target.scrollWidth > target.clientWidth + 1) target.tabIndex = 0;
        else target.removeAttribute("tabindex");
      }
    });
    for (const formula of document.querySelectorAll('mjx-container[display="true"]')) {
      observer.observe(formula);
    }
  });
});
