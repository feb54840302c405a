// Portal behaviour. Loaded with a CSP nonce; no inline script anywhere.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) {
      return;
    }
    // Confirm destructive actions: <form data-confirm="Really?">.
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if ((form.method || "get").toLowerCase() !== "post") {
      return;
    }
    // Show progress and prevent a second tap from posting twice. Disabled only
    // after the browser has collected the form data, so the pressed button's
    // name and value (e.g. the next status) are still sent.
    var pressed = event.submitter;
    window.setTimeout(function () {
      form.setAttribute("aria-busy", "true");
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (button) {
        button.disabled = true;
      });
      if (pressed && pressed.tagName === "BUTTON") {
        var spinner = document.createElement("span");
        spinner.className = "spinner-border spinner-border-sm ms-1";
        spinner.setAttribute("aria-hidden", "true");
        pressed.appendChild(spinner);
      }
    }, 0);
  }, true);

  // Pages restored from the back/forward cache must not keep disabled buttons.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("form[aria-busy] [disabled]").forEach(function (button) {
        button.disabled = false;
      });
    }
  });

  // Keep the CSRF token on htmx requests made by fragments swapped in later.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (token && !event.detail.headers["X-CSRFToken"]) {
      event.detail.headers["X-CSRFToken"] = token.value;
    }
  });
})();
