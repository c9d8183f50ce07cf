// Company and person lists: "select all on this page" and confirmations. No inline scripts (CSP).
(function () {
  "use strict";

  function rowBoxes(formId) {
    return document.querySelectorAll('input[type="checkbox"][name="ids"][form="' + formId + '"]');
  }

  function syncSelectAll(formId) {
    var master = document.querySelector('[data-select-all="' + formId + '"]');
    if (!master) return;
    var boxes = Array.prototype.slice.call(rowBoxes(formId));
    var checked = boxes.filter(function (box) { return box.checked; }).length;
    master.checked = boxes.length > 0 && checked === boxes.length;
    master.indeterminate = checked > 0 && checked < boxes.length;
  }

  // Delegated, so rows swapped in by HTMX ("Next page", filters) work without re-binding.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    if (target.dataset.selectAll) {
      rowBoxes(target.dataset.selectAll).forEach(function (box) { box.checked = target.checked; });
    } else if (target.name === "ids" && target.getAttribute("form")) {
      syncSelectAll(target.getAttribute("form"));
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
