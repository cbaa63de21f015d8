// Progressive enhancement of the second-factor page: while a push or a call waits for the
// user's answer on the phone, ask the server (it waits up to 10 s per request) and post
// the page's "continue" form once it is decided. Without JavaScript the user presses it.
(function () {
  "use strict";
  var form = document.getElementById("check");
  if (!form || !form.dataset.status || !window.fetch) {
    return;
  }
  var url = form.dataset.status;
  var tries = 0;
  function poll() {
    tries += 1;
    if (tries > 60) {
      return; // about ten minutes: the request has expired long before
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        return answer.ok ? answer.json() : { done: true };
      })
      .then(function (state) {
        if (state.done) {
          form.submit();
        } else {
          window.setTimeout(poll, 500);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 3000);
      });
  }
  poll();
})();
