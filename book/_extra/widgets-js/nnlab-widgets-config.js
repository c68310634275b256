// Loaded between require.js and the widget manager (embed-amd.js) on pages with widgets.
// 1. The widget manager finds its icon fonts relative to its AMD module ids; map those
//    ids to the folder of this script, so the fonts load from the book itself, from any page.
// 2. The widget manager typesets labels with MathJax 2's MathJax.Hub.Queue; the book loads
//    MathJax 3, whose equivalent is MathJax.typesetPromise.
(function () {
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  require.config({
    paths: {
      "@jupyter-widgets/html-manager/dist": here.replace(/\/$/, ""),
      "@jupyter-widgets": here.replace(/\/$/, "")
    }
  });
  window.MathJax = window.MathJax || {};
  window.MathJax.Hub = window.MathJax.Hub || {
    Queue: function (job) {
      var element = Array.isArray(job) ? job[2] : undefined;
      if (window.MathJax.typesetPromise) {
        return window.MathJax.typesetPromise(element ? [element] : undefined);
      }
    }
  };
})();
