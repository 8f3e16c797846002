// Loaded by the pages with widgets, between require.js and embed-amd.js (nb_ipywidgets_js
// in _config.yml), so that the widgets of the built book render without a network.
(function () {
  "use strict";
  // The widget manager loads its icon fonts from the folder of its module URL, which
  // RequireJS derives from the module's name: point every module at this folder.
  var folder = document.currentScript.src.replace(/[^/]*$/, "");
  var modules = [
    "@jupyter-widgets/base",
    "@jupyter-widgets/base7",
    "@jupyter-widgets/controls",
    "@jupyter-widgets/controls7",
    "@jupyter-widgets/html-manager",
    "@jupyter-widgets/html-manager/dist/libembed-amd",
  ];
  var paths = {};
  modules.forEach(function (name) {
    paths[name] = folder + name.split("/").pop();
  });
  require.config({ paths: paths });
  // ipywidgets typesets labels with the MathJax 2 API (MathJax.Hub.Queue); the book loads
  // MathJax 3, which has none. Registered before embed-amd.js renders the widgets on
  // "load", this hands that work to MathJax 3, when the page loads it.
  window.addEventListener("load", function () {
    var mathjax = window.MathJax;
    if (mathjax === undefined || mathjax.Hub !== undefined) {
      return;
    }
    mathjax.Hub = {
      Queue: function (job) {
        var element = Array.isArray(job) ? job[2] : undefined;
        if (element && typeof mathjax.typesetPromise === "function") {
          mathjax.typesetPromise([element]).catch(function () {});
        }
      },
    };
  });
})();
