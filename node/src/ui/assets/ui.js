// confer web UI: live refresh. The page's live regions ([data-live]) are fetched again
// when the node reports a change to a space they show (data-space, or "*" for any).
// Forms are never inside a live region; a region holding the keyboard focus waits until
// focus leaves it, so nothing being read or typed jumps.
(function () {
  "use strict";
  if (!document.querySelector("[data-live]") || !window.EventSource) return;
  var timer = null;
  function busy() {
    var active = document.activeElement;
    var hit = false;
    document.querySelectorAll("[data-live]").forEach(function (r) {
      if (active && active !== document.body && r.contains(active)) hit = true;
    });
    return hit;
  }
  function refresh() {
    timer = null;
    if (busy()) { schedule(1000); return; }
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
  function schedule(ms) { if (!timer) timer = setTimeout(refresh, ms); }
  var source = new EventSource("/events");
  source.addEventListener("change", function (e) {
    var match = e.data === "*";
    document.querySelectorAll("[data-live]").forEach(function (r) {
      var s = r.getAttribute("data-space");
      if (s === "*" || s === e.data) match = true;
    });
    if (match) schedule(150);
  });
})();
