// New User: show only the summary of the chosen profile. Without JavaScript every summary shows.
(function () {
  var select = document.getElementById("profile_id");
  if (!select) return;
  function update() {
    document.querySelectorAll(".profile-summary").forEach(function (summary) {
      summary.hidden = summary.getAttribute("data-profile") !== select.value;
    });
  }
  select.addEventListener("change", update);
  update();
})();
