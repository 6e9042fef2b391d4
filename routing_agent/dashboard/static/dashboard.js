// Live updates: follow the page's server-sent event stream (data-events); when it is missing or silent
// (a proxy that buffers it, a stream limit, a network error), poll the data-live fragment instead.
// main.dataset records how the region was last updated (via: "sse" | "poll") and how often (sse, polls).
(function () {
  "use strict";
  var main = document.getElementById("live");
  if (!main || !main.dataset.live) { return; }
  var every = Math.max(0.5, parseFloat(main.dataset.every || "2")) * 1000;
  var silentAfter = 3 * every + 5000;  // no event for this long: the stream is not working, poll
  var lastEvent = 0;
  var source = null;

  // What a person is filling in (the ship-to-segment form) survives the region's replacement.
  function formState() {
    var state = {checked: {}, selected: {}};
    main.querySelectorAll("form.keep input[type=checkbox]").forEach(function (box) {
      state.checked[box.name + "=" + box.value] = box.checked;
    });
    main.querySelectorAll("form.keep select").forEach(function (sel) { state.selected[sel.name] = sel.value; });
    return state;
  }
  function restore(state) {
    main.querySelectorAll("form.keep input[type=checkbox]").forEach(function (box) {
      var key = box.name + "=" + box.value;
      if (key in state.checked) { box.checked = state.checked[key]; }
    });
    main.querySelectorAll("form.keep select").forEach(function (sel) {
      if (sel.name in state.selected) { sel.value = state.selected[sel.name]; }
    });
  }

  function apply(html, via) {
    var state = formState();
    main.innerHTML = html;
    restore(state);
    main.dataset.via = via;
    main.dataset[via === "sse" ? "sse" : "polls"] =
      String(parseInt(main.dataset[via === "sse" ? "sse" : "polls"] || "0", 10) + 1);
    main.dataset.updated = String(Date.now());
  }

  if (main.dataset.events && window.EventSource) {
    source = new EventSource(main.dataset.events);
    source.addEventListener("update", function (e) { lastEvent = Date.now(); apply(e.data, "sse"); });
    source.addEventListener("alive", function () { lastEvent = Date.now(); });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) { main.dataset.stream = "closed"; }
    });
  }

  function streaming() {
    return source !== null && source.readyState !== EventSource.CLOSED && Date.now() - lastEvent < silentAfter;
  }

  function poll() {
    if (streaming()) { setTimeout(poll, every); return; }
    fetch(main.dataset.live, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null && !streaming()) { apply(html, "poll"); } })
      .catch(function () { main.dataset.stale = "1"; })
      .then(function () { setTimeout(poll, every); });
  }
  setTimeout(poll, source === null ? every : silentAfter);
})();
