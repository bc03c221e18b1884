// Live updates: the run page subscribes to its journal (Server-Sent Events) and, on each new
// event, fetches the run's fragment again and swaps it in. Without JavaScript the page is
// complete as served; reload to see more.
(function () {
  var live = document.querySelector("[data-live]");
  if (!live || !window.EventSource) return;
  var run = live.getAttribute("data-live");
  var status = document.querySelector(".live");
  var source = new EventSource("/runs/" + encodeURIComponent(run) + "/events");
  var pending = false;
  source.addEventListener("journal", function () {
    if (pending) return;
    pending = true;
    fetch("/runs/" + encodeURIComponent(run) + "/fragment", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) live.innerHTML = html; })
      .finally(function () { pending = false; });
    if (status) status.textContent = "live · updated " + new Date().toLocaleTimeString();
  });
  source.onerror = function () { if (status) status.textContent = "live updates paused; retrying"; };
})();
