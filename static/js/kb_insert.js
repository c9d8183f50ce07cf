// Knowledge base suggestions on the ticket card: "Insert link" writes "title: URL" into the reply textarea
// (#id_body, or the selector in data-kb-target of the suggestions block) at the cursor. Event delegation,
// so suggestions swapped in by HTMX work too; loaded once even when the partial is rendered again.
(function () {
  "use strict";
  if (window.crmKbInsert) return;
  window.crmKbInsert = true;

  function target(button) {
    var holder = button.closest("[data-kb-target]");
    var selector = (holder && holder.dataset.kbTarget) || "#id_body";
    return document.querySelector(selector);
  }

  function insert(field, text) {
    var start = typeof field.selectionStart === "number" ? field.selectionStart : field.value.length;
    var end = typeof field.selectionEnd === "number" ? field.selectionEnd : field.value.length;
    var before = field.value.slice(0, start);
    var after = field.value.slice(end);
    if (before && !/\s$/.test(before)) text = "\n" + text;
    if (!after || !/^\s/.test(after)) text = text + "\n";
    field.value = before + text + after;
    var cursor = before.length + text.length;
    field.focus();
    field.setSelectionRange(cursor, cursor);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-kb-insert]");
    if (!button) return;
    var field = target(button);
    if (!field) return;
    event.preventDefault();
    insert(field, button.dataset.kbTitle + ": " + button.dataset.kbUrl);
  });
})();
