// The signed-out page on its way back to the service that asked for the sign-out: it waits for
// the front-channel logout frames (the window's load event waits for every frame), at most five
// seconds, then follows the page's own "Continue" link. Without script, the citizen follows it.
(function () {
  "use strict";
  var link = document.getElementById("continue-to-service");
  if (!link) {
    return;
  }
  var gone = false;
  function go() {
    if (!gone) {
      gone = true;
      window.location.assign(link.getAttribute("href"));
    }
  }
  if (document.readyState === "complete") {
    go();
  } else {
    window.addEventListener("load", go);
  }
  window.setTimeout(go, 5000);
})();
