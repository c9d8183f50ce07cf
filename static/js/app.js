// App shell behaviour. No inline scripts anywhere: the content-security policy forbids them.
(function () {
  "use strict";

  function showToasts(root) {
    root.querySelectorAll(".toast[data-autoshow]").forEach(function (el) {
      el.removeAttribute("data-autoshow");
      bootstrap.Toast.getOrCreateInstance(el, { delay: 6000 }).show();
    });
  }

  // Progress bars: widths are set from data-percent (inline style attributes break the CSP).
  function sizeBars(root) {
    root.querySelectorAll("[data-percent]").forEach(function (el) {
      el.style.width = el.dataset.percent + "%";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    showToasts(document);
    sizeBars(document);
  });

  document.addEventListener("htmx:afterSettle", function () {
    showToasts(document);
    sizeBars(document);
  });

  // A failed HTMX request must not fail silently.
  document.addEventListener("htmx:responseError", function (event) {
    var container = document.getElementById("toasts");
    if (!container) return;
    var toast = document.createElement("div");
    toast.className = "toast text-bg-danger border-0";
    toast.setAttribute("role", "alert");
    var body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = document.body.dataset.errorText || "Error";
    toast.appendChild(body);
    container.appendChild(toast);
    bootstrap.Toast.getOrCreateInstance(toast, { delay: 6000 }).show();
  });
})();
