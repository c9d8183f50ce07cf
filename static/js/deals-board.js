// The deals kanban (deals/templates/deals/deal_board.html): drag a card to another stage with SortableJS.
// A drop POSTs the stage and the card's version to the card's data-move-url; the answer swaps both
// columns' headers (and the card) out of band. A lost stage first asks for the reason in a modal;
// a conflict (stale version) or a forbidden move puts the card back and shows the server's message.
(function () {
  "use strict";

  var pending = null; // the drop waiting for a loss reason: {item, from, oldIndex, stageId}

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function toast(text) {
    var container = document.getElementById("toasts");
    if (!container) return;
    var element = document.createElement("div");
    element.className = "toast text-bg-danger border-0";
    element.setAttribute("role", "alert");
    element.setAttribute("data-testid", "board-toast");
    var body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = text;
    element.appendChild(body);
    container.appendChild(element);
    bootstrap.Toast.getOrCreateInstance(element, { delay: 6000 }).show();
  }

  function revert(drop) {
    var reference = drop.from.children[drop.oldIndex] || null;
    drop.from.insertBefore(drop.item, reference);
  }

  function boardOf(element) {
    return element.closest("#board");
  }

  function send(drop, extra) {
    var board = boardOf(drop.from) || document.getElementById("board");
    var body = new URLSearchParams(board ? board.dataset.filterQuery || "" : "");
    body.set("stage", drop.stageId);
    body.set("version", drop.item.dataset.version || "");
    Object.keys(extra || {}).forEach(function (key) {
      body.set(key, extra[key]);
    });
    drop.item.classList.add("opacity-50");
    return fetch(drop.item.dataset.moveUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true", Accept: "text/html, application/json" },
    }).then(function (response) {
      drop.item.classList.remove("opacity-50");
      var isJson = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (response.ok && !isJson) {
        return response.text().then(function (html) {
          htmx.swap(document.body, html, { swapStyle: "none" });
          return { ok: true };
        });
      }
      // A refused move: {"ok": false, "conflict", "message", "errors"} (a stale version, bad input, forbidden).
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          return {
            ok: false,
            fieldErrors: response.ok && !data.conflict && Object.keys(data.errors || {}).length > 0,
            message: data.message || (board ? board.dataset.conflictText : ""),
            errors: data.errors || {},
          };
        });
    });
  }

  function failed(drop, result) {
    revert(drop);
    var board = boardOf(drop.from);
    toast(result.message || (board ? board.dataset.conflictText : ""));
  }

  function move(drop) {
    send(drop, {}).then(
      function (result) {
        if (!result.ok) failed(drop, result);
      },
      function () {
        failed(drop, { message: document.body.dataset.errorText });
      }
    );
  }

  // --- the loss reason modal -------------------------------------------------------------------

  function modalParts() {
    var modal = document.getElementById("loss-modal");
    return modal ? { modal: modal, form: modal.querySelector("#loss-form") } : null;
  }

  function showErrors(form, result) {
    var general = form.querySelector("[data-loss-error]");
    var shown = false;
    form.querySelectorAll("[data-error-for]").forEach(function (slot) {
      var messages = result.errors[slot.dataset.errorFor] || [];
      var field = form.querySelector('[name="' + slot.dataset.errorFor + '"]');
      slot.textContent = messages.join(" ");
      slot.classList.toggle("d-block", messages.length > 0);
      if (field) field.classList.toggle("is-invalid", messages.length > 0);
      shown = shown || messages.length > 0;
    });
    general.textContent = shown ? "" : result.message || "";
    general.classList.toggle("d-none", shown || !result.message);
  }

  function askLossReason(drop) {
    var parts = modalParts();
    if (!parts) {
      revert(drop);
      return;
    }
    pending = drop;
    parts.form.reset();
    showErrors(parts.form, { errors: {}, message: "" });
    bootstrap.Modal.getOrCreateInstance(parts.modal).show();
  }

  document.addEventListener("submit", function (event) {
    if (event.target.id !== "loss-form") return;
    event.preventDefault();
    var form = event.target;
    var drop = pending;
    if (!drop) return;
    var data = new FormData(form);
    var extra = {};
    data.forEach(function (value, key) {
      extra[key] = value;
    });
    var submit = form.querySelector("[type=submit]");
    submit.disabled = true;
    send(drop, extra).then(
      function (result) {
        submit.disabled = false;
        if (result.ok) {
          pending = null;
          bootstrap.Modal.getOrCreateInstance(form.closest(".modal")).hide();
        } else if (result.fieldErrors) {
          showErrors(form, result); // e.g. no reason: the message next to the field, the card waits
        } else {
          pending = null;
          bootstrap.Modal.getOrCreateInstance(form.closest(".modal")).hide();
          failed(drop, result);
        }
      },
      function () {
        submit.disabled = false;
        showErrors(form, { errors: {}, message: document.body.dataset.errorText });
      }
    );
  });

  // Cancel (or Escape, or the close button): the card goes back where it was.
  document.addEventListener("hidden.bs.modal", function (event) {
    if (event.target.id !== "loss-modal" || !pending) return;
    revert(pending);
    pending = null;
  });

  // --- sortable columns ------------------------------------------------------------------------

  function onEnd(event) {
    if (event.from === event.to) return; // reordering inside a column changes nothing
    var drop = { item: event.item, from: event.from, oldIndex: event.oldIndex, stageId: event.to.dataset.stageId };
    if (event.to.dataset.lost === "1") {
      askLossReason(drop);
    } else {
      move(drop);
    }
  }

  function init(root) {
    if (typeof Sortable === "undefined") return;
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll("[data-board-column]").forEach(function (column) {
      if (column.dataset.sortableReady) return;
      var board = boardOf(column);
      if (!board || board.dataset.canChange !== "1") return;
      column.dataset.sortableReady = "1";
      Sortable.create(column, {
        group: "deals",
        draggable: ".deal-card",
        animation: 150,
        forceFallback: true, // mouse events instead of native drag and drop: same in every browser
        fallbackTolerance: 4, // a click on the title still opens the deal
        ghostClass: "deal-card-ghost",
        onEnd: onEnd,
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
  });
  document.addEventListener("htmx:load", function (event) {
    init(event.target);
  });
})();
