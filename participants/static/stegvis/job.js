/* A background job's page (an export, an import): polls the job's state and shows its progress in
   the server's words. An export shows its download link when the file is ready; a page marked
   data-job-reload loads again when the job has finished, to show what it found. A job that is gone,
   or a session that has ended, stops the polling with the page's data-job-lost words. */
(function () {
  "use strict";
  var box = document.querySelector("[data-job-status]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-job-text]");
  var link = box.querySelector("[data-job-download]");
  function poll() {
    fetch(box.dataset.jobStatus, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        if (r.status >= 400 && r.status < 500) {  // gone, or signed out: polling again will not help
          text.textContent = box.dataset.jobLost;
          return null;
        }
        if (!r.ok) { throw new Error(String(r.status)); }  // the server is busy: try again
        return r.json();
      })
      .then(function (job) {
        if (!job) { return; }
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
