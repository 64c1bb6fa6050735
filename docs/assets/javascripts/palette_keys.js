/* day25: the light/dark toggle is one of two radio buttons (Material's palette), each
   named for what it switches to. Material switches on Enter and the arrow keys, but
   Space, the key a screen reader's user presses on a radio button, did nothing: the
   focused radio is the checked one, and checking it again changes nothing. Space now
   does what Enter does: it presses the toggle's visible label. */
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== " " || !(input instanceof HTMLInputElement)
        || !input.matches("[data-md-component=palette] input.md-option")) return;
    var label = input.nextElementSibling;
    if (!label || label.tagName !== "LABEL") return;
    event.preventDefault();
    label.click();
  });
})();
