// Orders and contracts pages: small behaviour the CSP-safe HTMX attributes cannot express.
(function () {
  "use strict";

  // Enter in a product or company picker's search box searches; it must not submit the surrounding form.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches("input[data-no-submit]")) {
      event.preventDefault();
    }
  });

  // Forms that destroy something ask first (data-confirm="question").
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // A status modal whose form came back with an error keeps the focus on the first invalid field.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.matches || !target.matches("form[data-testid=status-form]")) return;
    var invalid = target.querySelector(".invalid-feedback");
    var field = invalid ? invalid.parentElement.querySelector("select, textarea, input:not([type=hidden])") : null;
    if (field) field.focus();
  });
})();
