// The review page: while the package's re-run is queued or running, reload its section
// (#rerun, from its data-poll URL) every two seconds until the job has finished.
(function () {
  "use strict";

  var INTERVAL_MS = 2000;

  function poll() {
    var section = document.getElementById("rerun");
    if (!section) return;
    var status = section.getAttribute("data-status");
    if (status !== "queued" && status !== "running") return;
    window.setTimeout(function () {
      fetch(section.getAttribute("data-poll"), {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) {
          var holder = document.createElement("template");
          holder.innerHTML = html.trim();
          var fresh = holder.content.querySelector("#rerun");
          if (!fresh) return;
          section.replaceWith(fresh);
          poll();
        })
        .catch(function () {
          section.setAttribute("data-poll-error", "1"); // stop; a reload shows the state
        });
    }, INTERVAL_MS);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", poll);
  } else {
    poll();
  }
})();
