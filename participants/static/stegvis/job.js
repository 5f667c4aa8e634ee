/* A background job's page (an export, an import): polls the job's state and shows its progress in
   the server's words. An export shows its download link when the file is ready; a page marked
   data-job-reload loads again when the job has finished, to show what it found. */
(function () {
  "use strict";
  var box = document.querySelector("[data-job-status]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-job-text]");
  var link = box.querySelector("[data-job-download]");
  function poll() {
    fetch(box.dataset.jobStatus, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        bar.value = job.progress;
        text.textContent = job.text;  // the server's words, the same as on the page
        var finished = job.status === "done" || job.status === "failed";
        if (finished && box.hasAttribute("data-job-reload")) { window.location.reload(); return; }
        if (job.status === "done" && link) { link.hidden = false; }
        if (finished) { return; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
})();
