// The sidebar buttons of the article header, made to work again.
//
// pydata-sphinx-theme 0.17 adds sidebar buttons of its own, hidden in its page header
// (#pst-header), and both themes attach their click handlers to the first
// ".primary-toggle" and ".secondary-toggle" of the page: the hidden ones (upstream issue
// pydata/pydata-sphinx-theme#2451). The visible buttons then did nothing, and a phone could
// not open the table of contents. A click on a visible button is passed to the hidden one.
document.addEventListener("click", (event) => {
  for (const side of ["primary", "secondary"]) {
    const visible = event.target.closest(`.bd-header-article .${side}-toggle`);
    const bound = document.querySelector(`#pst-header .${side}-toggle`);
    if (visible && bound) {
      event.preventDefault();
      event.stopPropagation();
      bound.click();
    }
  }
}, true);
