// Small page behaviours that CSP forbids inline: confirmations before irreversible steps.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm || "Are you sure?")) {
      event.preventDefault();
    }
  });
})();
