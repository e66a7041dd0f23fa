// The Copy button of a newly made API token: copies the token field. Without JavaScript the
// button stays hidden and the hint beside the field says how to copy it by hand.
(function () {
  "use strict";
  var button = document.getElementById("copy-token");
  var field = document.getElementById("token-secret");
  var status = document.getElementById("copy-token-status");
  if (!button || !field) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    field.focus();
    field.select();
    var done = function () {
      status.textContent = button.getAttribute("data-copied");
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        status.textContent = "Press Ctrl+C (⌘C on a Mac) to copy the selected token.";
      });
    } else {
      status.textContent = "Press Ctrl+C (⌘C on a Mac) to copy the selected token.";
    }
  });
})();
