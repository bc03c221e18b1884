// Live updates: the run page subscribes to its journal (Server-Sent Events) and, on each new
// event, fetches the run's fragment again and swaps it in. Without JavaScript the page is
// complete as served; reload to see more.
(function () {
  // Decision timers: the seconds left when the part was rendered, counted down here.
  function countdown() {
    var now = Date.now();
    var els = document.querySelectorAll(".countdown[data-left]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (!el.shipcheckT0) el.shipcheckT0 = now;
      var left = parseInt(el.getAttribute("data-left"), 10) - Math.floor((now - el.shipcheckT0) / 1000);
      el.textContent = left > 0
        ? Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2) + " left"
        : "ran out: the watch asks to roll back";
    }
  }
  countdown();
  setInterval(countdown, 1000);
  var live = document.querySelector("[data-live]");
  if (!live || !window.EventSource) return;
  var run = live.getAttribute("data-live");
  var shown = live.getAttribute("data-events");
  var status = document.querySelector(".live");
  var source = new EventSource("/runs/" + encodeURIComponent(run) + "/events");
  var pending = false, wanted = null;
  // Someone typing or choosing in one of the part's forms: the swap waits for them.
  function editing() {
    var a = document.activeElement;
    if (a && live.contains(a) && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName)) return true;
    var fields = live.querySelectorAll("input[type=text], textarea");
    for (var i = 0; i < fields.length; i++) if (fields[i].value) return true;
    return false;
  }
  function refresh() {
    if (wanted === null || wanted === shown || pending) return;
    if (editing()) {
      if (status) status.textContent = "live · new events; the page updates when you finish the form";
      return;
    }
    var count = wanted;
    pending = true;
    fetch("/runs/" + encodeURIComponent(run) + "/fragment?at=" + encodeURIComponent(count), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null && !editing()) {
          live.innerHTML = html;
          shown = count;
          countdown();
          if (status) status.textContent = "live · updated " + new Date().toLocaleTimeString();
        }
      })
      .finally(function () { pending = false; refresh(); });
  }
  source.addEventListener("journal", function (e) {
    wanted = e.data;
    refresh();
  });
  setInterval(refresh, 1000);
  source.onerror = function () { if (status) status.textContent = "live updates paused; retrying"; };
})();
