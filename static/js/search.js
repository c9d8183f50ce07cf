// Global search box (templates/components/search_box.html): HTMX fills the dropdown, this file
// shows and hides it and makes it keyboard-navigable. ArrowDown/ArrowUp move through the results,
// Enter opens the highlighted one (or submits the full results page), Escape closes, "/" focuses.
// No inline scripts anywhere: the content-security policy forbids them.
(function () {
  "use strict";

  function setup(form) {
    if (form.dataset.searchReady) return;
    form.dataset.searchReady = "1";
    var input = form.querySelector("input[name=q]");
    var menu = document.getElementById(input.getAttribute("aria-controls"));
    var active = -1;

    function options() {
      return Array.prototype.slice.call(menu.querySelectorAll("[data-search-option]"));
    }

    function isOpen() {
      return menu.classList.contains("show");
    }

    function open() {
      if (!menu.children.length) return;
      menu.classList.add("show");
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      menu.classList.remove("show");
      input.setAttribute("aria-expanded", "false");
      highlight(-1);
    }

    function highlight(index) {
      var items = options();
      items.forEach(function (item, i) {
        item.classList.toggle("active", i === index);
        item.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index >= 0 && items[index]) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function move(step) {
      var items = options();
      if (!items.length) return;
      open();
      var next = active + step;
      if (next >= items.length) next = 0;
      if (next < 0) next = items.length - 1;
      highlight(next);
    }

    input.addEventListener("keydown", function (event) {
      switch (event.key) {
        case "ArrowDown":
          event.preventDefault();
          move(1);
          break;
        case "ArrowUp":
          event.preventDefault();
          move(-1);
          break;
        case "Enter":
          var items = options();
          if (isOpen() && active >= 0 && items[active]) {
            event.preventDefault();
            window.location.assign(items[active].href);
          }
          // Otherwise the form submits: the full results page (one match opens its card).
          break;
        case "Escape":
          if (isOpen()) {
            event.preventDefault();
            close();
          }
          break;
      }
    });

    input.addEventListener("focus", open);

    // The dropdown's content arrived (or was emptied because the box was cleared).
    menu.addEventListener("htmx:afterSwap", function () {
      active = -1;
      if (menu.textContent.trim() && input.value.trim()) {
        open();
        highlight(-1);
      } else {
        close();
      }
    });

    menu.addEventListener("mousemove", function (event) {
      var item = event.target.closest("[data-search-option]");
      if (item) highlight(options().indexOf(item));
    });

    document.addEventListener("click", function (event) {
      if (!form.contains(event.target)) close();
    });

    form.addEventListener("focusout", function (event) {
      if (event.relatedTarget && !form.contains(event.relatedTarget)) close();
    });
  }

  function setupAll() {
    document.querySelectorAll("form[data-search-box]").forEach(setup);
  }

  document.addEventListener("DOMContentLoaded", setupAll);
  document.addEventListener("htmx:load", setupAll);

  // "/" jumps to the search box, unless the user is typing somewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    var input = document.querySelector("form[data-search-box] input[name=q]");
    if (!input) return;
    event.preventDefault();
    input.focus();
    input.select();
  });
})();
