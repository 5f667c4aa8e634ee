/* Export progress: polls the job's status and shows the download link when the file is ready. */
(function () {
  "use strict";
  var box = document.querySelector("[data-export-status]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-export-text]");
  var link = box.querySelector("[data-export-download]");
  function poll() {
    fetch(box.dataset.exportStatus, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        bar.value = job.progress;
        text.textContent = job.text;  // the server's words, the same as on the page
        if (job.status === "done") { link.hidden = false; return; }
        if (job.status === "failed") { return; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
})();
