// Sora admin panel: the only script. Asks before a form with data-confirm is sent.
// Served from /admin/static (the Content-Security-Policy allows no inline script).
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) {
    return;
  }
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
