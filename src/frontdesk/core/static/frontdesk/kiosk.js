// The kiosk: one tap on a service submits; a shown ticket returns to the start screen by itself.
(function () {
  "use strict";
  document.querySelectorAll("[data-autosubmit] input[type=radio]").forEach(function (input) {
    input.addEventListener("change", function () {
      const form = input.form;
      if (form.dataset.sent) return; // a double tap sends once; the server's key catches the rest
      form.dataset.sent = "1";
      form.requestSubmit();
    });
  });
  const back = document.querySelector("[data-return-after]");
  if (back) {
    setTimeout(function () { location.href = back.getAttribute("href"); }, Number(back.dataset.returnAfter) * 1000);
  }
})();
