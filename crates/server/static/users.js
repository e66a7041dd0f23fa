// Users: choosing a view shows it at once. Without JavaScript the "Show" button does the same.
(function () {
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
