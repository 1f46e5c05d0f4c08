// confer web UI: live refresh. The page's live regions ([data-live]) are fetched again
// when the node reports a change to a space they show (data-space, or "*" for any).
// Forms are never inside a live region, so nothing being typed is lost.
(function () {
  "use strict";
  var regions = document.querySelectorAll("[data-live]");
  if (!regions.length || !window.EventSource) return;
  var pending = false;
  function refresh() {
    pending = false;
    fetch(location.href, { credentials: "same-origin", headers: { "X-Confer-Live": "1" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        if (!text) return;
        var doc = new DOMParser().parseFromString(text, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (old) {
          var fresh = doc.getElementById(old.id);
          if (fresh && fresh.innerHTML !== old.innerHTML) {
            old.innerHTML = fresh.innerHTML;
            old.classList.add("updated");
            setTimeout(function () { old.classList.remove("updated"); }, 1500);
          }
        });
        document.body.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () {});
  }
  var source = new EventSource("/events");
  source.addEventListener("change", function (e) {
    var match = false;
    regions.forEach(function (r) {
      var s = r.getAttribute("data-space");
      if (s === "*" || s === e.data) match = true;
    });
    if (match && !pending) {
      pending = true;
      setTimeout(refresh, 150);
    }
  });
})();
