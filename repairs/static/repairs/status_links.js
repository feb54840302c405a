// Copy buttons of the customer's status link (no inline script: strict CSP).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) {
      return;
    }
    var field = document.getElementById(button.dataset.copyTarget);
    if (!field) {
      return;
    }
    var done = function () {
      var label = button.querySelector("span");
      if (label && button.dataset.copiedLabel) {
        label.textContent = button.dataset.copiedLabel;
      }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        field.select();
      });
    } else {
      // Plain http (development): select the text so a long press copies it.
      field.focus();
      field.select();
      done();
    }
  });
})();
