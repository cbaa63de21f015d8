// Progressive enhancement of a token import's page: while the import runs, ask its status
// each second and move the bar and its words in place (the words are a live region, so a
// screen reader hears the phase change); once it has ended, load the page again, which
// shows the result. Without JavaScript the page reloads itself every 3 s instead.
(function () {
  "use strict";
  var job = document.getElementById("job");
  var words = document.getElementById("job-phase");
  var bar = document.getElementById("job-bar");
  if (!job || !words || !bar || !job.dataset.status || !window.fetch) {
    return;
  }
  var url = job.dataset.status;
  var tries = 0;
  var phase = job.dataset.phase;
  var said = Date.now();
  function poll() {
    tries += 1;
    if (tries > 3600) {
      window.location.reload(); // an hour of asking: the page itself says where it stands
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        return answer.ok ? answer.json() : { state: "ended" };
      })
      .then(function (state) {
        if (state.state !== "running") {
          window.location.reload();
          return;
        }
        // The words (a live region) change with the phase, and their counts at most every
        // 10 s: a screen reader is not made to read a number each second.
        var now = Date.now();
        if (state.phase !== phase || now - said > 10000) {
          phase = state.phase;
          said = now;
          words.textContent = state.text;
        }
        bar.textContent = state.text;
        if (state.max > 0) {
          bar.max = state.max;
          bar.value = state.value;
        } else {
          bar.removeAttribute("value");
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, 1000);
})();
