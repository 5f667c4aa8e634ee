/* Stegvis app shell on every staff page: the service worker, the sync badge, sending what waits,
   participant mode's guard, "log in again", keeping the caseload on the tablet, and a logout that
   warns about unsent readings and clears the device; a radar wider than the screen (a phone) opens
   scrolled to its centre. Uses device.js (window.StegvisDevice). */
(function () {
  "use strict";

  var device = window.StegvisDevice;
  var body = document.body;
  var user = body.dataset.deviceUser;
  if (!device || !user) { return; }
  device.configure({ statusUrl: body.dataset.statusUrl, user: user });

  var badge = document.querySelector("[data-sync-badge]");
  var banner = document.querySelector("[data-device-banner]");
  var syncDialog = document.querySelector("[data-sync-dialog]");
  var logoutDialog = document.querySelector("[data-logout-dialog]");
  var logoutForm = document.querySelector("form[data-logout]");
  var lastSummary = null;
  var caseloadMessage = "";

  function time(iso) {
    if (!iso) { return ""; }
    var date = new Date(iso);
    var today = new Date();
    var clock = ("0" + date.getHours()).slice(-2) + ":" + ("0" + date.getMinutes()).slice(-2);
    if (date.toDateString() === today.toDateString()) { return clock; }
    return date.toISOString().slice(0, 10) + " " + clock;
  }

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  /* --- Participant mode: the participant reaches the self-assessment and nothing else ---------- */

  device.get("lock").then(function (lock) {
    if (!lock) { return; }
    var path = window.location.pathname;
    var allowed = [new URL(lock.self_url, window.location).pathname, new URL(lock.done_url, window.location).pathname,
      body.dataset.loginUrl];
    if (allowed.indexOf(path) === -1) { window.location.replace(lock.self_url); return; }
    body.classList.add("participant-locked");
  });

  /* --- The badge, the banner and the outbox dialog -------------------------------------------- */

  function render(summary) {
    lastSummary = summary;
    var unsent = summary.waiting + summary.errors;
    var text;
    var kind = "ok";
    if (summary.errors) {
      text = plural(summary.errors, "bedömning behöver rättas", "bedömningar behöver rättas");
      kind = "error";
    } else if (summary.waiting && summary.login) {
      text = "Logga in igen: " + summary.waiting + " väntar";
      kind = "warn";
    } else if (summary.waiting) {
      text = summary.waiting + " väntar på servern";
      kind = "warn";
    } else if (summary.lastSync) {
      text = "Allt skickat " + time(summary.lastSync);
    } else {
      text = summary.offline ? "Ingen anslutning" : "Inget väntar";
      kind = summary.offline ? "offline" : "ok";
    }
    if (badge) {
      badge.hidden = false;
      badge.textContent = text;
      badge.className = "sync-badge " + kind;
      badge.setAttribute("aria-label", "Sparat på surfplattan: " + text);
    }
    var notices = [];
    if (summary.offline) {
      notices.push("Ingen anslutning. Du kan fortsätta: det du fyller i sparas på surfplattan och skickas när anslutningen är tillbaka.");
    }
    if (summary.login && summary.waiting) {
      notices.push("Du behöver logga in igen för att skicka " + plural(summary.waiting, "sparad bedömning", "sparade bedömningar") +
        ". Ingenting går förlorat.");
    }
    if (summary.othersWaiting) {
      notices.push(plural(summary.othersWaiting, "sparad bedömning", "sparade bedömningar") +
        " på surfplattan väntar på att " + summary.waitingFor + " loggar in; de ligger kvar när du loggar ut.");
    }
    if (caseloadMessage) { notices.push(caseloadMessage); }
    if (banner) {
      banner.hidden = !notices.length;
      banner.innerHTML = "";
      notices.forEach(function (notice) {
        var p = document.createElement("p");
        p.textContent = notice;
        banner.appendChild(p);
      });
      if (summary.login && summary.waiting) {
        var link = document.createElement("a");
        link.className = "button";
        link.href = body.dataset.loginUrl + "?next=" + encodeURIComponent(window.location.pathname + window.location.search);
        link.textContent = "Logga in igen";
        link.setAttribute("data-login-again", "");
        banner.appendChild(link);
      }
    }
    if (syncDialog && syncDialog.open) { renderDialog(summary); }
    if (!unsent) { body.removeAttribute("data-unsent"); } else { body.setAttribute("data-unsent", String(unsent)); }
  }

  function renderDialog(summary) {
    var list = syncDialog.querySelector("[data-outbox-list]");
    var summaryText = syncDialog.querySelector("[data-sync-summary]");
    summaryText.textContent = summary.items.length
      ? plural(summary.items.length, "bedömning", "bedömningar") + " på surfplattan har inte tagits emot av servern ännu." +
        (summary.lastSync ? " Senast skickat " + time(summary.lastSync) + "." : "")
      : "Inget väntar på servern." + (summary.lastSync ? " Senast skickat " + time(summary.lastSync) + "." : "");
    syncDialog.querySelector("[data-sync-now]").hidden = !summary.waiting || summary.offline;
    list.innerHTML = "";
    summary.items.forEach(function (item) {
      var li = document.createElement("li");
      li.className = item.state === "error" ? "error" : "";
      var title = document.createElement("strong");
      title.textContent = item.label || "Svar";
      li.appendChild(title);
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = " sparad " + time(item.queued_at) + (item.state === "error" ? " – skickades inte" : " – väntar");
      li.appendChild(meta);
      if (item.state === "error") {
        var why = document.createElement("p");
        why.textContent = (item.errors || []).join(" ");
        li.appendChild(why);
        if (item.conflict) {
          var again = document.createElement("button");
          again.type = "button";
          again.className = "button secondary";
          again.textContent = "Skicka som ny bedömning";
          again.addEventListener("click", function () {
            var copy = Object.assign({}, item, { client_uuid: device.uuid(), state: "waiting", errors: null, conflict: false,
              queued_at: new Date().toISOString() });
            copy.body = Object.assign({}, item.body, { client_uuid: copy.client_uuid });
            device.queue(copy).then(function () { return device.unqueue(item.client_uuid); }).then(flush);
          });
          li.appendChild(again);
        } else if (item.form_url) {
          var fix = document.createElement("a");
          fix.className = "button secondary";
          fix.href = item.form_url;
          fix.textContent = "Öppna och rätta";
          li.appendChild(fix);
        }
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button secondary danger";
        remove.textContent = "Radera";
        remove.addEventListener("click", function () {
          if (window.confirm("Radera " + (item.label || "svaren") + " från surfplattan? De har inte tagits emot av servern och kan inte återställas.")) {
            device.unqueue(item.client_uuid);
          }
        });
        li.appendChild(remove);
      }
      list.appendChild(li);
    });
  }

  function refresh() { return device.summary().then(render); }
  function flush() { return device.flush().then(render); }

  document.addEventListener("stegvis:device", function (event) {
    if (event.detail && event.detail.sent) { say("Skickat: " + (event.detail.sent.label || "svaren") + "."); }
    refresh();
  });

  function say(text) {
    var toast = document.createElement("p");
    toast.className = "toast";
    toast.setAttribute("role", "status");
    toast.textContent = text;
    document.body.appendChild(toast);
    window.setTimeout(function () { toast.remove(); }, 5000);
  }

  if (badge && syncDialog) {
    badge.addEventListener("click", function () {
      if (lastSummary) { renderDialog(lastSummary); }
      syncDialog.showModal();
    });
    syncDialog.querySelector("[data-sync-now]").addEventListener("click", flush);
  }
  Array.prototype.forEach.call(document.querySelectorAll("dialog [data-dialog-close]"), function (button) {
    button.addEventListener("click", function () { button.closest("dialog").close(); });
  });

  /* --- Logout: warn about what is unsent, then clear the device ------------------------------ */

  function clearDevice() {
    var forget = navigator.serviceWorker && navigator.serviceWorker.controller
      ? new Promise(function (resolve) {
        navigator.serviceWorker.addEventListener("message", function handler(event) {
          if (event.data && event.data.type === "pages-forgotten") {
            navigator.serviceWorker.removeEventListener("message", handler);
            resolve();
          }
        });
        navigator.serviceWorker.controller.postMessage({ type: "forget-pages" });
        window.setTimeout(resolve, 3000);
      })
      : (window.caches ? window.caches.delete("stegvis-pages") : Promise.resolve());
    return Promise.all([device.clearForLogout(), forget]);
  }

  function logOut() {
    clearDevice().then(function () {
      if (!navigator.onLine) {
        // The session ends as soon as the tablet is online again (the service worker does it).
        return device.set("logoutPending", true).then(function () { window.location.assign(body.dataset.loginUrl); });
      }
      return device.session().then(function (session) {
        var token = logoutForm.querySelector("[name=csrfmiddlewaretoken]");
        if (session.status === 200 && token) { token.value = session.body.csrf_token; }
        logoutForm.submit();
      });
    });
  }

  if (logoutForm) {
    logoutForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = logoutForm.querySelector("button[type=submit]");
      button.disabled = true;
      button.textContent = "Skickar det som väntar …";
      // What can be sent is sent first; a connection that never answers does not hold the logout up.
      var patience = new Promise(function (resolve) { window.setTimeout(resolve, 8000); }).then(device.summary);
      Promise.race([device.flush(), patience]).then(function (summary) {
        button.disabled = false;
        button.textContent = "Logga ut";
        render(summary);
        var unsent = summary.waiting + summary.errors;
        if (!unsent) { logOut(); return; }
        logoutDialog.querySelector("[data-logout-text]").textContent =
          plural(unsent, "bedömning har", "bedömningar har") + " inte tagits emot av servern ännu" +
          (summary.offline ? " (ingen anslutning)" : summary.login ? " (du behöver logga in igen)" : "") +
          ". Om du loggar ut nu raderas de från surfplattan och kan inte skickas.";
        logoutDialog.showModal();
      });
    });
    logoutDialog.querySelector("[data-logout-anyway]").addEventListener("click", function () {
      logoutDialog.close();
      logOut();
    });
  }

  /* --- The service worker and the caseload kept on the tablet --------------------------------- */

  function cacheCaseload() {
    var worker = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (!worker || !navigator.onLine) { return; }
    caseloadMessage = "Sparar dina deltagare på surfplattan för användning utan anslutning …";
    refresh();
    worker.postMessage({ type: "cache-caseload", url: body.dataset.caseloadUrl, user: user });
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      var message = event.data || {};
      if (message.type === "caseload-progress") {
        caseloadMessage = "Sparar dina deltagare på surfplattan för användning utan anslutning: " +
          message.done + " av " + message.total + " sidor.";
      } else if (message.type === "caseload-cached") {
        if (message.missing) {
          caseloadMessage = "Bara " + (message.total - message.missing) + " av " + message.total +
            " sidor kunde sparas på surfplattan; anslutningen bröts. Öppna Mina deltagare igen när det finns anslutning.";
        } else {
          caseloadMessage = "";
          body.setAttribute("data-caseload-cached", message.at);
          say(plural(message.participants, "deltagare finns", "deltagare finns") + " nu på surfplattan, även utan anslutning.");
        }
      } else if (message.type === "caseload-error") {
        caseloadMessage = message.login ? "" : "Dina deltagare kunde inte sparas på surfplattan just nu.";
      } else {
        return;
      }
      refresh();
    });
    device.get("deviceUser").then(function (previous) {
      if (previous && previous !== user) {
        // Another mentor used this tablet: their pages and drafts leave it (their unsent readings wait).
        if (navigator.serviceWorker.controller) { navigator.serviceWorker.controller.postMessage({ type: "forget-pages" }); }
        return device.forgetAllBut(user);
      }
      return previous ? null : device.set("deviceUser", user);
    }).then(function () {
      // The outbox must survive a tablet that runs low on space.
      if (navigator.storage && navigator.storage.persist) { navigator.storage.persist(); }
      return navigator.serviceWorker.register(body.dataset.workerUrl, { scope: "/" });
    }).then(function () { return navigator.serviceWorker.ready; }).then(function () {
      if (document.querySelector("[data-offline-caseload]")) {
        if (navigator.serviceWorker.controller) { cacheCaseload(); }
        else { navigator.serviceWorker.addEventListener("controllerchange", cacheCaseload, { once: true }); }
      }
    }).catch(function () { /* no worker (an old browser): the pages still work online */ });
  }

  Array.prototype.forEach.call(document.querySelectorAll(".chart-scroll"), function (region) {
    if (region.querySelector("svg.radar") && region.scrollWidth > region.clientWidth) {
      region.scrollLeft = (region.scrollWidth - region.clientWidth) / 2;
    }
  });

  window.addEventListener("online", flush);
  window.addEventListener("offline", refresh);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { flush(); } });
  window.setInterval(function () { if (navigator.onLine) { flush(); } }, 20000);
  flush();
})();
