/* day25: a diagram is never drawn smaller than 3/4 of its natural size.
   Mermaid fits a diagram to the column by scaling it down; a wide left-to-right flow
   (lesson 9's chat) came out at 0.29x, its 16px labels at 4.6px. Material renders each
   diagram with the global `mermaid` (vendored next to this file), so wrapping
   `mermaid.render` adds a min-width to the SVG it returns: narrow diagrams still fit,
   wide ones keep readable labels and scroll sideways in their box (readable.css),
   which scroll_regions.js makes reachable by keyboard. Loaded right after mermaid.min.js. */
(function () {
  "use strict";
  var MIN_SCALE = 0.75;
  if (typeof mermaid === "undefined" || typeof mermaid.render !== "function") {
    return;
  }
  var render = mermaid.render.bind(mermaid);
  mermaid.render = function () {
    return render.apply(null, arguments).then(function (result) {
      result.svg = result.svg.replace(/max-width:\s*([\d.]+)px;?/, function (all, width) {
        return "max-width: " + width + "px; min-width: " + Math.round(width * MIN_SCALE) + "px;";
      });
      return result;
    });
  };
})();
