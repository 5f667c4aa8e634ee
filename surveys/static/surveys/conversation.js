/* The målbildssamtal on the tablet, on the device: the hub shows this conversation's readings (sent
   or still on the tablet), hands the tablet over in participant mode with a code, the thank-you page
   takes it back with that code, and the comparison shows today's readings before they reach the
   server. Everything works without a connection. Uses device.js (window.StegvisDevice). */
(function () {
  "use strict";

  var device = window.StegvisDevice;
  if (!device) { return; }
  var MAX_ATTEMPTS = 5;
  var MAX_WAIT_MS = 5 * 60000;

  function text(el, value) { if (el) { el.textContent = value; el.hidden = !value; } }

  /* This conversation's readings: {self: {answers, state}, mentor: {...}} from the outbox or the
     records of readings already sent. */
  var CONVERSATION_HOURS = 18;

  /* The conversation's record and its sent readings leave the tablet (what waits in the outbox stays). */
  function forget(enrolment, conversation) {
    var keys = ["self", "mentor"].filter(function (p) { return conversation && conversation[p]; })
      .map(function (p) { return "sent:" + conversation[p]; });
    keys.push("conversation:" + enrolment);
    return Promise.all(keys.map(device.del));
  }  // a conversation not ended by the evening is over: the next one starts afresh

  function readings(enrolment) {
    return Promise.all([device.get("conversation:" + enrolment), device.outbox()]).then(function (values) {
      var conversation = values[0] || {};
      if (conversation.started_at && Date.now() - new Date(conversation.started_at) > CONVERSATION_HOURS * 3600000) {
        forget(enrolment, conversation);
        conversation = {};
      }
      var queued = values[1];
      var result = {};
      return Promise.all(["self", "mentor"].map(function (perspective) {
        var uuid = conversation[perspective];
        if (!uuid) { return null; }
        var waiting = queued.filter(function (item) { return item.client_uuid === uuid; })[0];
        if (waiting) {
          result[perspective] = { answers: waiting.body.answers, state: waiting.state === "error" ? "error" : "waiting" };
          return null;
        }
        return device.get("sent:" + uuid).then(function (sent) {
          if (sent) { result[perspective] = { answers: sent.answers, state: "sent", at: sent.sent_at }; }
        });
      })).then(function () { return result; });
    });
  }

  var STATE_TEXT = {
    waiting: "Klar i dag – sparad på surfplattan, skickas när det finns anslutning.",
    sent: "Klar i dag – skickad.",
    error: "Skickades inte: öppna och rätta (se Sparat på surfplattan)."
  };

  /* --- The hub --------------------------------------------------------------------------------- */

  var hub = document.querySelector("[data-conversation]");
  if (hub) {
    var enrolment = hub.dataset.enrolment;
    var showStates = function () {
      readings(enrolment).then(function (today) {
        ["self", "mentor"].forEach(function (perspective) {
          var el = hub.querySelector('[data-reading-state="' + perspective + '"]');
          if (el && today[perspective]) {
            el.textContent = STATE_TEXT[today[perspective].state];
            el.className = "reading-state " + today[perspective].state;
          }
        });
      });
    };
    showStates();
    document.addEventListener("stegvis:device", showStates);

    var handover = hub.querySelector("form[data-handover]");
    handover.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = handover.querySelector("[data-handover-error]");
      var code = handover.elements.code.value.trim();
      if (!/^[0-9]{4,6}$/.test(code)) {
        text(error, "Koden ska vara 4–6 siffror.");
        handover.elements.code.focus();
        return;
      }
      if (code !== handover.elements.code_again.value.trim()) {
        text(error, "Koderna är inte likadana. Skriv samma kod två gånger.");
        handover.elements.code_again.focus();
        return;
      }
      var salt = device.uuid();
      var language = handover.elements.language.value;
      var button = handover.querySelector("button[type=submit]");
      button.disabled = true;
      device.hashCode(code, salt).then(function (hash) {
        return device.set("lock", {
          enrolment: Number(enrolment),
          self_url: hub.dataset.selfUrl + "?sprak=" + encodeURIComponent(language),
          done_url: hub.dataset.doneUrl,
          mentor_url: hub.dataset.mentorUrl,
          salt: salt,
          hash: hash,
          attempts: 0,
          blocked_until: null,
          started_at: new Date().toISOString()
        });
      }).then(function () {
        window.location.assign(hub.dataset.selfUrl + "?sprak=" + encodeURIComponent(language));
      }).catch(function () {
        button.disabled = false;
        text(error, "Deltagarläget kunde inte startas på den här enheten.");
      });
    });
  }

  /* --- Taking the tablet back ------------------------------------------------------------------ */

  var unlock = document.querySelector("form[data-unlock]");
  if (unlock) {
    unlock.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = unlock.querySelector("[data-unlock-error]");
      var code = unlock.elements.code.value.trim();
      var button = unlock.querySelector("button[type=submit]");
      if (button.disabled) { return; }
      button.disabled = true;
      device.get("lock").then(function (lock) {
        if (!lock) { window.location.assign(document.body.dataset.loginUrl); return null; }
        if (lock.blocked_until && new Date(lock.blocked_until) > new Date()) {
          var seconds = Math.ceil((new Date(lock.blocked_until) - new Date()) / 1000);
          text(error, "För många felaktiga koder. Vänta " + (seconds > 90 ? Math.ceil(seconds / 60) + " minuter" : seconds + " sekunder") +
            " och försök igen.");
          return null;
        }
        return device.hashCode(code, lock.salt).then(function (hash) {
          if (hash === lock.hash) {
            return device.del("lock").then(function () { window.location.assign(lock.mentor_url); });
          }
          lock.attempts += 1;
          if (lock.attempts >= MAX_ATTEMPTS) {  // a minute, then two, four … at most five
            var wait = Math.min(60000 * Math.pow(2, lock.attempts - MAX_ATTEMPTS), MAX_WAIT_MS);
            lock.blocked_until = new Date(Date.now() + wait).toISOString();
          }
          return device.set("lock", lock).then(function () {
            text(error, lock.attempts >= MAX_ATTEMPTS
              ? "Fel kod igen. Surfplattan är låst en stund; bara handledaren kan låsa upp den."
              : "Fel kod. Bara handledaren kan lämna deltagarläget.");
            unlock.elements.code.value = "";
            unlock.elements.code.focus();
          });
        });
      }).then(function () { button.disabled = false; }, function () { button.disabled = false; });
    });
  }

  var byPassword = document.querySelector("form[data-unlock-password]");
  if (byPassword) {
    byPassword.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = byPassword.querySelector("[data-unlock-password-error]");
      if (!navigator.onLine) { text(error, "Lösenordet kan bara kontrolleras med anslutning. Använd koden."); return; }
      device.session().then(function (session) {
        if (session.status !== 200) { window.location.assign(document.body.dataset.loginUrl); return null; }
        return fetch(byPassword.dataset.url, {
          method: "POST", credentials: "same-origin", redirect: "manual",
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": session.body.csrf_token },
          body: JSON.stringify({ password: byPassword.elements.password.value })
        }).then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (answer) {
            if (response.status === 200 && answer.ok) {
              return device.get("lock").then(function (lock) {
                return device.del("lock").then(function () {
                  window.location.assign(lock ? lock.mentor_url : "/");
                });
              });
            }
            if (response.status === 401) {
              // The mentor's session has ended (five wrong passwords, or it expired): participant mode
              // stays; the mentor logs in again, or uses the code.
              text(error, "Inloggningen har upphört. Handledaren loggar in igen, eller använder koden.");
              byPassword.elements.password.value = "";
              return null;
            }
            text(error, answer.detail || "Fel lösenord.");
            byPassword.elements.password.value = "";
            return null;
          });
        });
      }).catch(function () { text(error, "Ingen kontakt med servern. Använd koden."); });
    });
  }

  /* --- The comparison -------------------------------------------------------------------------- */

  var compare = document.querySelector("[data-compare]");
  if (compare) {
    readings(compare.dataset.enrolment).then(function (today) {
      if (!today.self && !today.mentor) { return; }
      var pending = false;
      Array.prototype.forEach.call(document.querySelectorAll("tr[data-item]"), function (row) {
        var code = row.dataset.item;
        ["self", "mentor"].forEach(function (perspective) {
          if (!today[perspective]) { return; }
          var value = today[perspective].answers[code];
          row.querySelector("[data-" + perspective + "]").textContent = value === undefined ? "–" : value;
        });
        var s = Number(row.querySelector("[data-self]").textContent);
        var m = Number(row.querySelector("[data-mentor]").textContent);
        var gap = row.querySelector("[data-gap]");
        if (row.hasAttribute("data-rating") && !isNaN(s) && !isNaN(m)) {
          var difference = m - s;
          gap.textContent = (difference > 0 ? "+" : "") + difference;
          if (Math.abs(difference) >= 3) {
            var badge = document.createElement("span");
            badge.className = "badge";
            badge.textContent = "prata om";
            gap.appendChild(document.createTextNode(" "));
            gap.appendChild(badge);
          }
        } else {
          gap.textContent = "–";
        }
      });
      ["self", "mentor"].forEach(function (perspective) {
        if (today[perspective] && today[perspective].state !== "sent") { pending = true; }
      });
      document.querySelector("[data-device-readings]").hidden = !pending;
      var caption = document.querySelector("table.compare caption");
      if (caption) {
        caption.textContent = "Svar per fråga: dagens " + ["self", "mentor"].filter(function (p) { return today[p]; })
          .map(function (p) { return p === "self" ? "självskattning" : "bedömning"; }).join(" och ") +
          (pending ? " (sparat på surfplattan)" : "");
      }
    });

    var finish = document.querySelector("[data-finish]");
    if (finish) {
      finish.addEventListener("click", function () {
        var enrolment = compare.dataset.enrolment;
        device.get("conversation:" + enrolment).then(function (conversation) {
          return forget(enrolment, conversation);
        }).then(function () { window.location.assign(finish.dataset.next); });
      });
    }
  }
})();
