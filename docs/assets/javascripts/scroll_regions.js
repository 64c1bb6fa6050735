/* day25: a region that scrolls must be reachable by keyboard (WCAG 2.1.1), and only
   such a region should be a tab stop. nbconvert made every notebook cell a tab stop
   (the notebook_pages hook removes those); this gives one back to each code cell,
   output or table that really overflows, and takes it away when it no longer does. */
(function () {
  "use strict";
  var CANDIDATES = "article .highlight-ipynb, article .jp-OutputArea-output, " +
    "article pre, article .md-typeset__scrollwrap, article .jp-RenderedHTMLCommon table, " +
    "article div.mermaid";
  var SCROLLS = /^(auto|scroll)$/;

  function scrolls(el) {
    var style = getComputedStyle(el);
    var sideways = SCROLLS.test(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
    var down = SCROLLS.test(style.overflowY) && el.scrollHeight > el.clientHeight + 1;
    return sideways || down;
  }

  function mark() {
    document.querySelectorAll(CANDIDATES).forEach(function (el) {
      var ours = el.hasAttribute("data-day25-scroll");
      if (scrolls(el)) {
        if (!el.hasAttribute("tabindex")) {
          el.setAttribute("tabindex", "0");
          el.setAttribute("data-day25-scroll", "");
        }
      } else if (ours) {
        el.removeAttribute("tabindex");
        el.removeAttribute("data-day25-scroll");
      }
    });
  }

  var pending = 0;
  function later() {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(mark);
  }

  if (typeof document$ !== "undefined") {
    document$.subscribe(later);  // Material's "page ready" (also after instant loading)
  } else {
    document.addEventListener("DOMContentLoaded", later);
  }
  window.addEventListener("load", later);
  window.addEventListener("resize", later);
})();
