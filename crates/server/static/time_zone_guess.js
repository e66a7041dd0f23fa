// Join: preselect the browser's own time zone, when the list has it. Without JavaScript the
// company's zone stays selected. The page includes this only when it opens (not after an error,
// where the select shows what the person chose).
(function () {
  var select = document.getElementById("time_zone");
  if (!select || !window.Intl || !Intl.DateTimeFormat) return;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) return;
  for (var i = 0; i < select.options.length; i++) {
    if (select.options[i].value === zone) {
      select.value = zone;
      return;
    }
  }
})();
