// Users: choosing a view with the mouse (or touch) shows it at once. A choice made with the
// keyboard waits for Enter or the "Show" button, so arrowing through the options never leaves the
// page (WCAG 3.2.2). Without JavaScript the "Show" button does it.
(function () {
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    var keyboard = false;
    select.addEventListener("keydown", function (event) {
      keyboard = true;
      if (event.key === "Enter") { select.form.requestSubmit(); }
    });
    select.addEventListener("pointerdown", function () { keyboard = false; });
    select.addEventListener("change", function () {
      if (!keyboard) { select.form.submit(); }
    });
  });
})();
