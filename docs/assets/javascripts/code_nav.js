/* day25: Material puts each code block's copy button in a <nav>, so a page with twenty
   code blocks had twenty unnamed navigation landmarks beside the site's own, and a screen
   reader's list of landmarks filled with them (axe: landmark-unique). A copy button is not
   navigation: its <nav> is given role="none", and the button keeps its own name. Material
   adds the buttons after the page is shown (and again on each instant page load), so new
   ones are caught as they appear. */
(function () {
  "use strict";
  function plain() {
    document.querySelectorAll("nav.md-code__nav:not([role])").forEach(function (nav) {
      nav.setAttribute("role", "none");
    });
  }
  new MutationObserver(plain).observe(document.documentElement, {childList: true, subtree: true});
  plain();
})();
