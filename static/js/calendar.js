// The calendar page: FullCalendar fed by the JSON endpoint; dragging or resizing an event reschedules it.
// Configuration comes from data- attributes on #calendar (the CSP forbids inline scripts).
(function () {
  "use strict";

  // The CSRF token the base template gives HTMX (hx-headers on <body>).
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
    var el = document.createElement("div");
    el.className = "toast text-bg-danger border-0";
    el.setAttribute("role", "alert");
    el.setAttribute("data-testid", "calendar-error");
    var body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = text;
    el.appendChild(body);
    container.appendChild(el);
    el.addEventListener("hidden.bs.toast", function () {
      el.remove();
    });
    bootstrap.Toast.getOrCreateInstance(el, { delay: 6000 }).show();
  }

  // ?scope=mine|team&user=<id> from the toggle and the member picker (managers and directors only).
  function scopeParams() {
    var checked = document.querySelector("input[name=calendar-scope]:checked");
    var member = document.getElementById("calendar-member");
    var params = { scope: checked ? checked.value : "mine" };
    if (params.scope === "team" && member && member.value) params.user = member.value;
    return params;
  }

  // POST the new start (and end, for a resize); anything but a moved event puts it back where it was.
  function move(el, info, withEnd) {
    var body = new URLSearchParams();
    body.set("start", info.event.startStr);
    if (withEnd && info.event.endStr) body.set("end", info.event.endStr);
    var url = el.dataset.moveUrl.replace(/\/0\/move\/$/, "/" + encodeURIComponent(info.event.id) + "/move/");
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            if (!response.ok || !data.id) {
              info.revert();
              toast(data.error || el.dataset.errorText);
              return;
            }
            info.event.setProp("classNames", data.classNames);
            info.event.setExtendedProp("overdue", data.extendedProps.overdue);
          });
      })
      .catch(function () {
        info.revert();
        toast(el.dataset.errorText);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("calendar");
    if (!el || !window.FullCalendar) return;
    var timeFormat = { hour: "2-digit", minute: "2-digit", hour12: false };
    var calendar = new FullCalendar.Calendar(el, {
      initialView: "dayGridMonth",
      locale: el.dataset.locale,
      timeZone: el.dataset.timeZone,
      firstDay: 1,
      headerToolbar: { left: "prev,next today", center: "title", right: "dayGridMonth,timeGridWeek,timeGridDay" },
      buttonHints: { prev: el.dataset.prevText, next: el.dataset.nextText },
      eventTimeFormat: timeFormat,
      slotLabelFormat: timeFormat,
      scrollTime: "08:00:00",
      nowIndicator: true,
      dayMaxEvents: true,
      eventDisplay: "block",
      editable: true,
      // Moving a timed event into the all-day row (or back) would change its kind of time: not allowed.
      eventAllow: function (dropInfo, dragged) {
        return dropInfo.allDay === dragged.allDay;
      },
      events: {
        url: el.dataset.eventsUrl,
        extraParams: scopeParams,
        failure: function () {
          toast(el.dataset.loadingErrorText);
        },
      },
      eventDrop: function (info) {
        move(el, info, false);
      },
      eventResize: function (info) {
        move(el, info, true);
      },
      eventDidMount: function (info) {
        var props = info.event.extendedProps;
        var title = info.event.title;
        if (props.assignee) title = props.assignee + ": " + title;
        if (props.overdue) title += " (" + el.dataset.overdueText + ")";
        info.el.title = title;
        info.el.setAttribute("data-testid", "calendar-event");
        info.el.setAttribute("data-activity", info.event.id);
      },
    });
    calendar.render();

    var member = document.getElementById("calendar-member");
    document.querySelectorAll("input[name=calendar-scope]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (member) member.disabled = scopeParams().scope !== "team";
        calendar.refetchEvents();
      });
    });
    if (member) {
      member.addEventListener("change", function () {
        calendar.refetchEvents();
      });
    }
  });
})();
