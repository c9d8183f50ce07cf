// The 360° card (contacts): small behaviour the CSP-safe HTMX attributes cannot express.
(function () {
  "use strict";

  // "Cancel" on an inline form (log a call, add a phone, add a former company) removes the form.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss-fragment]");
    if (!button) return;
    var fragment = button.closest("[data-fragment]");
    if (fragment) fragment.remove();
  });

  // Enter in a company picker's search box searches; it must not submit the surrounding form.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches("input[data-no-submit]")) {
      event.preventDefault();
    }
  });

  // A freshly opened inline form: focus its first field, so a call is logged with the keyboard.
  document.addEventListener("htmx:afterSwap", function (event) {
    var form = event.detail.target.querySelector ? event.detail.target.querySelector("form[data-fragment]") : null;
    if (!form) return;
    var field = form.querySelector("input:not([type=hidden]):not([data-no-submit]), select, textarea");
    if (field) field.focus();
  });
})();
