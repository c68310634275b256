// A solution's button says which solution it opens.
//
// sphinx-togglebutton labels every button "Toggle hidden content", so a screen reader
// listing a chapter's buttons heard the same name for each of its exercises. Once the
// buttons are made (on DOMContentLoaded, before the load event), each takes the title
// of its box ("Solution to Exercise 3.1 (Forward pass by hand)") and names the box it
// opens and closes.
window.addEventListener("load", () => {
  for (const button of document.querySelectorAll(".admonition button.toggle-button")) {
    const title = button.closest(".admonition-title");
    const name = title ? title.textContent.trim() : "";
    if (name) button.setAttribute("aria-label", `Show or hide: ${name}`);
    button.setAttribute("aria-controls", button.dataset.target);
  }
});
