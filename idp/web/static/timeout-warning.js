// Shows the warning two minutes before a sign-in or consent page stops working, and asks the
// gateway for more time without reloading the page (the same form works without script).
(function () {
  "use strict";
  var WARN_BEFORE_MS = 2 * 60 * 1000;
  var area = document.querySelector(".page-lifetime");
  if (!area || !window.fetch) { return; }
  var warning = document.getElementById("timeout-warning");
  var form = document.getElementById("more-time");
  var button = document.getElementById("timeout-continue");
  var failed = document.getElementById("timeout-failed");
  var timer = null;

  function schedule(secondsLeft) {
    if (timer) { window.clearTimeout(timer); }
    var wait = Math.max(0, secondsLeft * 1000 - WARN_BEFORE_MS);
    timer = window.setTimeout(function () {
      warning.hidden = false;
      warning.focus();
    }, wait);
  }

  button.addEventListener("click", function () {
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (answer) {
      if (answer.expires_in * 1000 <= WARN_BEFORE_MS) { failed.hidden = false; return; }
      warning.hidden = true;
      schedule(answer.expires_in);
      var first = document.querySelector("main input:not([type=hidden]), main button");
      if (first) { first.focus(); }
    }).catch(function () {
      failed.hidden = false;
    });
  });

  schedule(Number(area.getAttribute("data-expires-in")));
}());
