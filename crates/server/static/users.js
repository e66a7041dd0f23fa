// Users: "Select all on this page" ticks every row's box, and the count of what is selected is
// announced. Without JavaScript the same boxes work: the server reads "all on this page" and
// "every match" itself, and the View, filters and search apply with the "Show" button (so moving
// through the View drop-down with the arrow keys changes nothing until Show is pressed).
(function () {
  var form = document.querySelector("form.bulk-form");
  if (!form) { return; }
  var page = form.querySelector("input[data-select-page]");
  var matching = form.querySelector("input[data-select-matching]");
  var count = form.querySelector("[data-selection-count]");
  var rows = Array.prototype.slice.call(form.querySelectorAll("input[name=ids]"));

  function update() {
    var ticked = rows.filter(function (box) { return box.checked; }).length;
    if (page) {
      page.checked = rows.length > 0 && ticked === rows.length;
      page.indeterminate = ticked > 0 && ticked < rows.length;
    }
    if (!count) { return; }
    if (matching && matching.checked) {
      count.textContent = "Every matching user is selected.";
    } else {
      count.textContent = ticked === 1 ? "1 user selected." : ticked + " users selected.";
    }
    count.hidden = false;
  }

  if (page) {
    page.addEventListener("change", function () {
      rows.forEach(function (box) { box.checked = page.checked; });
      update();
    });
  }
  rows.forEach(function (box) { box.addEventListener("change", update); });
  if (matching) { matching.addEventListener("change", update); }
  update();
})();
