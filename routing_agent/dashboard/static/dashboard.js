// Live updates: re-read the page's data-live region every data-every seconds (polling, same origin).
(function () {
  "use strict";
  var main = document.getElementById("live");
  if (!main || !main.dataset.live) { return; }
  var every = Math.max(0.5, parseFloat(main.dataset.every || "2")) * 1000;
  function tick() {
    fetch(main.dataset.live, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null) { main.innerHTML = html; main.dataset.updated = String(Date.now()); }
      })
      .catch(function () { main.dataset.stale = "1"; })
      .then(function () { setTimeout(tick, every); });
  }
  setTimeout(tick, every);
})();
