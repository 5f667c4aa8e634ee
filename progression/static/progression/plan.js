/* Min plan on the participant's phone: the page is kept by its own service worker
   (/min-plan/sw.js, scope /min-plan/) so that it opens without a connection once visited, and says
   so when what it shows is the kept copy. */
(function () {
  "use strict";

  var root = document.querySelector("[data-my-plan]");
  if (!root) { return; }

  var note = document.querySelector("[data-offline-note]");
  function showConnection() { if (note) { note.hidden = navigator.onLine; } }
  window.addEventListener("online", showConnection);
  window.addEventListener("offline", showConnection);
  showConnection();

  if (!("serviceWorker" in navigator)) { return; }
  navigator.serviceWorker.register(root.dataset.workerUrl, { scope: root.dataset.workerScope }).then(function (registration) {
    if (navigator.serviceWorker.controller && registration.active === navigator.serviceWorker.controller) {
      return;  // this page came through the worker, which kept it already
    }
    var worker = registration.active || registration.waiting || registration.installing;
    if (!worker) { return; }
    var keep = function () { worker.postMessage({ type: "keep-plan", url: window.location.href }); };
    if (worker.state === "activated") { keep(); return; }
    worker.addEventListener("statechange", function () { if (worker.state === "activated") { keep(); } });
  }).catch(function () { /* no worker (an old browser, or offline): the page still works online */ });
})();
