// Portal behaviour. Loaded with a CSP nonce; no inline script anywhere.
(function () {
  "use strict";
  // Confirm destructive actions: <form data-confirm="Really?">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);
  // Keep the CSRF token on htmx requests made by fragments swapped in later.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (token && !event.detail.headers["X-CSRFToken"]) {
      event.detail.headers["X-CSRFToken"] = token.value;
    }
  });
})();
