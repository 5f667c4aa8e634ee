/* Mina deltagare on the tablet: the pseudonym search filters as the mentor types (also offline; a
   personnummer goes to the server, which looks it up and logs it), and each participant's readings
   and plans still on this device are counted. Uses device.js (window.StegvisDevice). */
(function () {
  "use strict";

  var table = document.querySelector("[data-caseload]");
  var search = document.querySelector("[data-caseload-search]");
  var device = window.StegvisDevice;
  /* As progression/views.py: digits (at least eight) with separators only go to the server. */
  function personnummer(text) { return /^[\d\s+\-–−—]+$/.test(text) && text.replace(/\D/g, "").length >= 8; }

  function filter() {
    if (!table) { return; }
    var query = search.elements.q.value.trim().toLowerCase();
    if (personnummer(query)) { return; }
    var shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var match = row.dataset.pseudonym.toLowerCase().indexOf(query) !== -1;
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    table.hidden = shown === 0;
    document.querySelector("[data-no-match]").hidden = shown !== 0;
  }

  if (search) {
    search.elements.q.addEventListener("input", filter);
    search.addEventListener("submit", function (event) {
      // A pseudonym is found on the page, even offline; only a personnummer needs the server.
      if (table && !personnummer(search.elements.q.value.trim())) {
        event.preventDefault();
        filter();
      }
    });
  }

  function countUnsent() {
    if (!device || !table) { return; }
    device.summary().then(function (summary) {
      var byEnrolment = {};
      summary.items.forEach(function (item) {
        if (item.enrolment) { byEnrolment[item.enrolment] = (byEnrolment[item.enrolment] || 0) + 1; }
      });
      Array.prototype.forEach.call(table.querySelectorAll("[data-unsent]"), function (cell) {
        var n = byEnrolment[cell.dataset.unsent] || 0;
        cell.textContent = n ? n + (n === 1 ? " sak på surfplattan" : " saker på surfplattan") : "";
        cell.hidden = n === 0;
      });
      var total = document.querySelector("[data-unsent-total]");
      if (total) {
        total.textContent = summary.items.length
          ? summary.items.length + (summary.items.length === 1 ? " sak väntar" : " saker väntar") + " på att skickas från surfplattan."
          : "";
      }
    });
  }

  countUnsent();
  document.addEventListener("stegvis:device", countUnsent);
})();
