/* The målbildssamtal on the tablet, on the device: the hub shows this conversation's readings (sent
   or still on the tablet), hands the tablet over in participant mode with a code, the thank-you page
   takes it back with that code, and the comparison shows today's readings before they reach the
   server. Everything works without a connection. Uses device.js (window.StegvisDevice). */
(function () {
  "use strict";

  var device = window.StegvisDevice;
  if (!device) { return; }
  var gettext = window.gettext || function (value) { return value; };
  var interpolate = window.interpolate || function (value, values) {
    return value.replace(/%\((\w+)\)s/g, function (match, name) { return values[name]; });
  };
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
    waiting: gettext("Klar i dag – sparad på surfplattan, skickas när det finns anslutning."),
    sent: gettext("Klar i dag – skickad."),
    error: gettext("Skickades inte: öppna och rätta (se Sparat på surfplattan).")
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
    var showCode = handover.querySelector("[data-show-code]");
    if (showCode) {
      showCode.addEventListener("change", function () { handover.elements.code.type = showCode.checked ? "text" : "password"; });
    }
    handover.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = handover.querySelector("[data-handover-error]");
      var code = handover.elements.code.value.trim();
      if (!/^[0-9]{4,6}$/.test(code)) {
        text(error, gettext("Koden ska vara 4–6 siffror."));
        handover.elements.code.focus();
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
        text(error, gettext("Deltagarläget kunde inte startas på den här enheten."));
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
          text(error, seconds > 90
            ? interpolate(gettext("För många felaktiga koder. Vänta %(minutes)s minuter och försök igen."), { minutes: Math.ceil(seconds / 60) }, true)
            : interpolate(gettext("För många felaktiga koder. Vänta %(seconds)s sekunder och försök igen."), { seconds: seconds }, true));
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
              ? gettext("Fel kod igen. Surfplattan är låst en stund; bara handledaren kan låsa upp den.")
              : gettext("Fel kod. Bara handledaren kan lämna deltagarläget."));
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
      if (!navigator.onLine) { text(error, gettext("Lösenordet kan bara kontrolleras med anslutning. Använd koden.")); return; }
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
              text(error, gettext("Inloggningen har upphört. Handledaren loggar in igen, eller använder koden."));
              byPassword.elements.password.value = "";
              return null;
            }
            text(error, answer.detail || gettext("Fel lösenord."));
            byPassword.elements.password.value = "";
            return null;
          });
        });
      }).catch(function () { text(error, gettext("Ingen kontakt med servern. Använd koden.")); });
    });
  }

  /* --- The comparison -------------------------------------------------------------------------- */

  var compare = document.querySelector("[data-compare]");
  var stages = JSON.parse((document.getElementById("ladder-stages") || {}).textContent || "[]");

  function decimal(value) { return value.toFixed(1).replace(".", ","); }

  /* A difference as Swedish typography writes it: +1,5, −2, 0. */
  function signed(value, decimals) {
    if (value === 0) { return "0"; }
    return (value > 0 ? "+" : "−") + Math.abs(value).toFixed(decimals).replace(".", ",");
  }

  /* The ladder's stage word of a value; between two stages (4,5) the lower one. */
  function stageOf(value) {
    var reached = stages.filter(function (stage) { return stage.first <= value; });
    return (reached[reached.length - 1] || stages[0] || { label: "" }).label;
  }

  function showMean(cell, values) {
    cell.textContent = "";
    if (!values.length) { cell.textContent = "–"; return null; }
    var mean = values.reduce(function (a, b) { return a + b; }, 0) / values.length;
    var value = document.createElement("span");
    value.className = "ladder-value";
    value.textContent = decimal(mean);
    var word = document.createElement("span");
    word.className = "stage-word";
    word.textContent = stageOf(mean);
    cell.appendChild(value);
    cell.appendChild(document.createTextNode(" "));
    cell.appendChild(word);
    return mean;
  }

  function badge(cell) {
    var span = document.createElement("span");
    span.className = "badge";
    span.textContent = "prata om";
    cell.appendChild(document.createTextNode(" "));
    cell.appendChild(span);
  }

  /* The radar drawn again from the area table, so that it shows today's readings from the device. */
  function redrawRadar(rows) {
    var svg = document.querySelector("svg.chart.radar[data-radius]");
    if (!svg) { return; }
    var ns = "http://www.w3.org/2000/svg";
    var centre = Number(svg.dataset.centre), radius = Number(svg.dataset.radius);
    var low = Number(svg.dataset.min), high = Number(svg.dataset.max);
    var count = rows.length;
    ["self", "mentor"].forEach(function (who, number) {
      var group = svg.querySelector('g.radar-series[data-series="' + number + '"]');
      if (!group) { return; }
      var polygon = group.querySelector("polygon");
      var colour = polygon.getAttribute("stroke");
      Array.prototype.slice.call(group.querySelectorAll("rect, circle, polyline")).forEach(function (m) { group.removeChild(m); });
      var points = rows.map(function (row, index) {
        var cell = row.querySelector(who === "self" ? "[data-self-mean] .ladder-value" : "[data-mentor-mean] .ladder-value");
        var value = cell ? Number(cell.textContent.replace(",", ".")) : null;
        var share = value === null ? 0 : (value - low) / (high - low);
        var angle = -Math.PI / 2 + 2 * Math.PI * index / count;
        var x = centre + radius * share * Math.cos(angle), y = centre + radius * share * Math.sin(angle);
        if (value !== null) {
          var mark = document.createElementNS(ns, number % 2 ? "circle" : "rect");
          if (number % 2) { mark.setAttribute("cx", x); mark.setAttribute("cy", y); mark.setAttribute("r", 4.5); }
          else { mark.setAttribute("x", x - 4.5); mark.setAttribute("y", y - 4.5); mark.setAttribute("width", 9); mark.setAttribute("height", 9); }
          mark.setAttribute("class", "series-" + number);
          mark.setAttribute("fill", colour);
          mark.setAttribute("stroke", colour);
          group.appendChild(mark);
        }
        return x.toFixed(1) + "," + y.toFixed(1);
      });
      polygon.setAttribute("points", points.join(" "));
    });
  }

  var showToday = function () {
    readings(compare.dataset.enrolment).then(function (today) {
      if (!today.self && !today.mentor) { return; }
      var pending = false;
      var answer = {};
      Array.prototype.forEach.call(document.querySelectorAll("tr[data-item]"), function (row) {
        var code = row.dataset.item;
        ["self", "mentor"].forEach(function (perspective) {
          if (!today[perspective]) { return; }
          var value = today[perspective].answers[code];
          row.querySelector("[data-" + perspective + "]").textContent = value === undefined ? "–" : value;
        });
        var s = Number(row.querySelector("[data-self]").textContent);
        var m = Number(row.querySelector("[data-mentor]").textContent);
        answer[code] = { self: s, mentor: m };
        var gap = row.querySelector("[data-gap]");
        gap.textContent = row.hasAttribute("data-rating") && !isNaN(s) && !isNaN(m) ? signed(m - s, 0) : "–";
      });
      Array.prototype.forEach.call(document.querySelectorAll("tr[data-area]"), function (row) {
        var codes = row.dataset.items.split(" ");
        var pick = function (who) {
          return codes.map(function (code) { return (answer[code] || {})[who]; }).filter(function (v) { return !isNaN(v); });
        };
        var s = showMean(row.querySelector("[data-self-mean]"), pick("self"));
        var m = showMean(row.querySelector("[data-mentor-mean]"), pick("mentor"));
        var gap = row.querySelector("[data-area-gap]");
        gap.textContent = s !== null && m !== null ? signed(m - s, 1) : "–";
        if (s !== null && m !== null && Math.abs(m - s) >= 3) { badge(gap); }
        row.classList.toggle("attention", s !== null && m !== null && (Math.abs(m - s) >= 3 || Math.max(s, m) < 5));
      });
      redrawRadar(Array.prototype.slice.call(document.querySelectorAll("tr[data-area]")));
      ["self", "mentor"].forEach(function (perspective) {
        if (today[perspective] && today[perspective].state !== "sent") { pending = true; }
      });
      document.querySelector("[data-device-readings]").hidden = !pending;
      var caption = document.querySelector("table.areas caption");
      if (caption) {
        var which = today.self && today.mentor ? gettext("Per område på stegen 1–10: dagens självskattning och bedömning")
          : today.self ? gettext("Per område på stegen 1–10: dagens självskattning") : gettext("Per område på stegen 1–10: dagens bedömning");
        caption.textContent = which + (pending ? " " + gettext("(sparat på surfplattan)") : "");
      }
    });
  };
  if (compare) {
    showToday();
    document.addEventListener("stegvis:device", showToday);  // a reading sent meanwhile: say so
  }

  /* --- The plan: målbild, delmål tied to an area, handlingsplan; saved with one button ------------ */

  var plan = document.querySelector("form[data-plan]");
  if (plan) {
    var planKey = "plan:" + plan.dataset.enrolment;
    var formKey = "plan-" + plan.dataset.enrolment;
    var rhythmDays = Number(plan.dataset.rhythmDays) || 42;
    var planUuid = null;
    var rowCount = 0;

    var isoDate = function (days) {
      var d = new Date();
      d.setDate(d.getDate() + days);
      return d.getFullYear() + "-" + ("0" + (d.getMonth() + 1)).slice(-2) + "-" + ("0" + d.getDate()).slice(-2);
    };
    Array.prototype.forEach.call(document.querySelectorAll("template"), function (template) {
      template.innerHTML = template.innerHTML.replace(/<span class="meta" data-date-of="next"><\/span>/g,
        '<span class="meta" data-date-of="next">' + isoDate(rhythmDays) + "</span>");
    });

    var MAX_ROWS = 20;  // as many as the server takes in one plan
    var addRow = function (kind, values) {
      var rows = plan.querySelectorAll(kind === "milestone" ? "[data-milestone-row]" : "[data-step-row]");
      if (rows.length >= MAX_ROWS) {
        var status = plan.querySelector("[data-plan-status]");
        status.textContent = interpolate(kind === "milestone" ? gettext("Högst %(count)s nya delmål i ett samtal.") : gettext("Högst %(count)s nya steg i ett samtal."), { count: MAX_ROWS }, true);
        status.className = "sync-status error";
        return rows[rows.length - 1];
      }
      rowCount += 1;
      var template = document.getElementById(kind === "milestone" ? "milestone-row" : "step-row");
      var holder = document.createElement("div");
      holder.innerHTML = template.innerHTML.replace(/__n__/g, String(rowCount));
      var row = holder.firstElementChild;
      plan.querySelector(kind === "milestone" ? "[data-milestones]" : "[data-steps]").appendChild(row);
      fillRow(row, values || {});
      number(kind);
      return row;
    };

    /* Rows are numbered as they stand, so a message's "Delmål 2" is the second one on the screen. */
    var number = function (kind) {
      var rows = plan.querySelectorAll(kind === "milestone" ? "[data-milestone-row]" : "[data-step-row]");
      Array.prototype.forEach.call(rows, function (row, index) {
        var name = interpolate(kind === "milestone" ? gettext("Delmål %(number)s") : gettext("Steg %(number)s"), { number: index + 1 }, true);
        row.querySelector("legend").textContent = name;
        row.querySelector("[data-remove-row]").textContent = "Ta bort " + name.toLowerCase();
      });
      var hint = plan.querySelector("[data-no-milestones]");
      if (hint && kind === "milestone") { hint.hidden = rows.length > 0; }
    };

    var radio = function (row, prefix) { return row.querySelector('input[type=radio][name^="' + prefix + '-"]:checked'); };

    var fillRow = function (row, values) {
      Object.keys(values).forEach(function (name) {
        var field = row.querySelector('[name="' + name + '"]');
        if (field) { field.value = values[name]; return; }
        var option = row.querySelector('input[type=radio][name^="' + name + '-"][value="' + values[name] + '"]');
        if (option) { option.checked = true; }
      });
      showChoices(row);
    };

    var showChoices = function (row) {
      var when = radio(row, "when");
      row.querySelector('[name="date"]').hidden = !when || when.value !== "date";
      var other = row.querySelector('[name="who_other"]');
      if (other) { var who = radio(row, "who"); other.hidden = !who || who.value !== "other"; }
    };

    var rowValues = function (row) {
      var values = {};
      Array.prototype.forEach.call(row.querySelectorAll("input:not([type=radio]), select"), function (field) {
        values[field.name] = field.value;
      });
      ["who", "when"].forEach(function (prefix) { var r = radio(row, prefix); if (r) { values[prefix] = r.value; } });
      return values;
    };

    var state = function () {
      return {
        client_uuid: planUuid,
        goal: plan.elements.goal.value,
        achieved: Array.prototype.filter.call(plan.querySelectorAll("[name=achieved]"), function (b) { return b.checked; })
          .map(function (b) { return b.value; }),
        milestones: Array.prototype.map.call(plan.querySelectorAll("[data-milestone-row]"), rowValues),
        steps: Array.prototype.map.call(plan.querySelectorAll("[data-step-row]"), rowValues)
      };
    };

    var restore = function (saved) {
      planUuid = saved.client_uuid || planUuid;
      if (typeof saved.goal === "string") { plan.elements.goal.value = saved.goal; }
      Array.prototype.forEach.call(plan.querySelectorAll("[name=achieved]"), function (box) {
        box.checked = (saved.achieved || []).indexOf(box.value) !== -1;
      });
      plan.querySelector("[data-milestones]").innerHTML = "";
      plan.querySelector("[data-steps]").innerHTML = "";
      (saved.milestones || []).forEach(function (values) { addRow("milestone", values); });
      (saved.steps || []).forEach(function (values) { addRow("step", values); });
      if (!plan.querySelector("[data-step-row]")) { addRow("step"); }
      number("milestone");
    };

    var saveDraft = function () { return device.set(planKey, state()); };

    var dateOf = function (choice, picked) {
      if (choice === "next") { return isoDate(rhythmDays); }
      if (choice === "date") { return picked || null; }
      if (choice === "none" || !choice) { return null; }
      return isoDate(Number(choice));
    };

    var blank = function (values) { return !(values.what || "").trim() && !values.who; };

    /* Every problem at once, each naming its row and moving focus to the first. */
    var problems = function () {
      var list = [];
      if (!plan.elements.goal.value.trim() && !plan.dataset.currentGoal) {
        list.push({ text: gettext("Skriv målbilden: deltagaren har ingen ännu."), field: plan.elements.goal });
      }
      Array.prototype.forEach.call(plan.querySelectorAll("[data-milestone-row]"), function (row, index) {
        var values = rowValues(row);
        if (!(values.text || "").trim()) {
          list.push({ text: interpolate(gettext("Delmål %(number)s: skriv vad delmålet är, eller ta bort det."), { number: index + 1 }, true), field: row.querySelector("[name=text]") });
        }
        if (values.when === "date" && !values.date) {
          list.push({ text: interpolate(gettext("Delmål %(number)s: välj ett datum."), { number: index + 1 }, true), field: row.querySelector("[name=date]") });
        } else if (values.when === "date" && values.date < isoDate(0)) {
          list.push({ text: interpolate(gettext("Delmål %(number)s: datumet har redan passerat."), { number: index + 1 }, true), field: row.querySelector("[name=date]") });
        }
      });
      Array.prototype.forEach.call(plan.querySelectorAll("[data-step-row]"), function (row, index) {
        var values = rowValues(row);
        if (blank(values)) { return; }
        if (!(values.what || "").trim()) {
          list.push({ text: interpolate(gettext("Steg %(number)s: skriv vad som ska göras."), { number: index + 1 }, true), field: row.querySelector("[name=what]") });
        }
        if (!values.who) {
          list.push({ text: interpolate(gettext("Steg %(number)s: välj vem som gör det."), { number: index + 1 }, true), field: row.querySelector('input[name^="who-"]') });
        } else if (values.who === "other" && !(values.who_other || "").trim()) {
          list.push({ text: interpolate(gettext("Steg %(number)s: skriv vem som gör det."), { number: index + 1 }, true), field: row.querySelector("[name=who_other]") });
        }
        if (values.when === "date" && !values.date) {
          list.push({ text: interpolate(gettext("Steg %(number)s: välj ett datum."), { number: index + 1 }, true), field: row.querySelector("[name=date]") });
        } else if (values.when === "date" && values.date < isoDate(0)) {
          list.push({ text: interpolate(gettext("Steg %(number)s: datumet har redan passerat."), { number: index + 1 }, true), field: row.querySelector("[name=date]") });
        }
      });
      return list;
    };

    /* The problems listed at the top, each also said at its field, and focus on the first; the
       screen scrolls to it, so that the mentor sees what to do. */
    var showProblems = function (list) {
      var box = plan.querySelector("[data-plan-errors]");
      box.innerHTML = "";
      Array.prototype.forEach.call(plan.querySelectorAll("[aria-invalid]"), function (el) { el.removeAttribute("aria-invalid"); });
      Array.prototype.forEach.call(plan.querySelectorAll("[data-plan-error]"), function (el) { el.remove(); });
      Array.prototype.forEach.call(plan.querySelectorAll(".chips.invalid"), function (el) { el.classList.remove("invalid"); });
      if (!list.length) { box.hidden = true; return; }
      var heading = document.createElement("h2");
      heading.textContent = gettext("Samtalet är inte sparat: något behöver rättas");
      var ul = document.createElement("ul");
      list.forEach(function (problem) {
        var li = document.createElement("li");
        li.textContent = problem.text;
        ul.appendChild(li);
        if (!problem.field) { return; }
        var chips = problem.field.closest(".chips");
        (chips || problem.field).setAttribute("aria-invalid", "true");
        if (chips) { chips.classList.add("invalid"); }
        var at = problem.field.closest(".field") || problem.field.parentNode;
        var message = document.createElement("p");
        message.className = "field-error";
        message.setAttribute("data-plan-error", "");
        message.textContent = problem.text;
        at.insertBefore(message, at.firstChild);
      });
      box.appendChild(heading);
      box.appendChild(ul);
      box.hidden = false;
      var first = list[0].field;
      if (first) {
        (first.closest(".field") || first).scrollIntoView({ block: "center" });
        first.focus({ preventScroll: true });
      } else {
        box.scrollIntoView({ block: "start" });
        box.focus();
      }
    };

    var body = function () {
      var values = state();
      return {
        client_uuid: planUuid,
        occurred_at: new Date().toISOString(),
        goal: values.goal.trim() === (plan.dataset.currentGoal || "").trim() ? "" : values.goal,
        achieved: values.achieved.map(Number),
        milestones: values.milestones.map(function (row) {
          return { text: row.text, area: row.area || "", target_date: dateOf(row.when, row.date) };
        }),
        steps: values.steps.filter(function (row) { return !blank(row); }).map(function (row) {
          return { what: row.what, who: row.who === "other" ? row.who_other : row.who, due_date: dateOf(row.when, row.date) };
        })
      };
    };

    plan.addEventListener("click", function (event) {
      var remove = event.target.closest("[data-remove-row]");
      if (remove) {
        var row = remove.closest(".plan-row");
        var kind = row.hasAttribute("data-milestone-row") ? "milestone" : "step";
        row.parentNode.removeChild(row);
        number(kind);
        saveDraft();
        return;
      }
      if (event.target.closest("[data-add-step]")) {
        addRow("step").querySelector("[name=what]").focus();
        saveDraft();
      }
    });
    /* "+ Delmål" beside an area (in the table above the form) or without one. */
    document.addEventListener("click", function (event) {
      var add = event.target.closest("[data-add-milestone]");
      if (!add) { return; }
      var row = addRow("milestone", { area: add.dataset.addMilestone });
      row.querySelector("[name=text]").focus();
      saveDraft();
    });
    plan.addEventListener("change", function (event) {
      var row = event.target.closest(".plan-row");
      if (row) { showChoices(row); }
      saveDraft();
    });
    plan.addEventListener("input", saveDraft);

    plan.addEventListener("submit", function (event) {
      event.preventDefault();
      var list = problems();
      showProblems(list);
      if (list.length) { return; }
      var status = plan.querySelector("[data-plan-status]");
      var item = {
        client_uuid: planUuid,
        url: plan.dataset.saveUrl,
        auth: true,
        user: document.body.dataset.deviceUser,
        body: body(),
        draft: state(),
        enrolment: Number(plan.dataset.enrolment),
        form_key: formKey,
        form_url: window.location.pathname,
        label: "Samtalets plan " + plan.dataset.pseudonym,
        queued_at: new Date().toISOString(),
        state: "waiting"
      };
      // On the device for good first; then the draft and the conversation's record go.
      device.queue(item).then(function () {
        return Promise.all([device.del(planKey), device.get("conversation:" + plan.dataset.enrolment)]);
      }).then(function (values) {
        // The conversation remembers its plan, so that the page opened again says it is saved.
        var conversation = values[1] || { enrolment: Number(plan.dataset.enrolment), started_at: new Date().toISOString() };
        conversation.plan = item.client_uuid;
        conversation.goal = item.draft.goal;  // the målbild as agreed, for additions made later today
        agreedGoal = item.draft.goal;
        return device.set("conversation:" + plan.dataset.enrolment, conversation);
      }).then(function () {
        showSaved(gettext("Planen är sparad på surfplattan och skickas när det finns anslutning."));
        return device.flush().then(function () { return device.outbox(); }).then(function (items) {
          var still = items.filter(function (queued) { return queued.client_uuid === item.client_uuid; })[0];
          if (!still) { showSaved(gettext("Planen är sparad och skickad.")); }
          else if (still.state === "error") { showRefused(still); }
        });
      }).catch(function () {
        status.textContent = gettext("Planen kunde inte sparas på surfplattan. Låt sidan vara öppen och försök igen.");
        status.className = "sync-status error";
      });
    });

    /* The plan is saved (waiting or sent): the form gives way to a notice, and "Lägg till mer i
       planen" starts a new, empty plan of additions, so that nothing agreed is saved twice. */
    var savedPanel = document.querySelector("[data-plan-saved]");
    var showSaved = function (text) {
      plan.hidden = true;
      Array.prototype.forEach.call(document.querySelectorAll("[data-add-milestone]"), function (b) { b.hidden = true; });
      document.querySelector("[data-plan-saved-text]").textContent = text;
      if (savedPanel.hidden) { savedPanel.hidden = false; savedPanel.focus(); }
    };
    var agreedGoal = null;  // the målbild of today's plan, once saved
    var showForm = function () {
      savedPanel.hidden = true;
      plan.hidden = false;
      Array.prototype.forEach.call(document.querySelectorAll("[data-add-milestone]"), function (b) { b.hidden = false; });
    };
    savedPanel.querySelector("[data-plan-more]").addEventListener("click", function () {
      showForm();
      planUuid = device.uuid();
      restore({ client_uuid: planUuid, goal: agreedGoal || plan.dataset.currentGoal || plan.elements.goal.value });
      saveDraft();
      plan.elements.goal.focus();
    });

    /* The server's refusal of a plan: back in the form, each message at its row where it names one. */
    var showRefused = function (refused) {
      showForm();
      planUuid = refused.client_uuid;
      saveDraft();
      showProblems((refused.errors || []).map(function (text) {
        var named = /^(Delmål|Steg) (\d+)/.exec(text);
        var rows = named ? plan.querySelectorAll(named[1] === "Delmål" ? "[data-milestone-row]" : "[data-step-row]") : [];
        var row = named ? rows[Number(named[2]) - 1] : null;
        var field = row ? row.querySelector("input[type=text]") : /^Skriv målbilden/.test(text) ? plan.elements.goal : null;
        return { text: text, field: field };
      }));
    };

    /* A plan in the making, or one the server refused, comes back into the form: the refused one
       stays in the outbox (marked) until it is saved again, corrected, under the same UUID. A plan
       of today's conversation that is saved already is said to be so. */
    var enrolmentId = plan.dataset.enrolment;
    Promise.all([device.get(planKey), device.outbox(), device.get("conversation:" + enrolmentId)]).then(function (values) {
      var draft = values[0];
      var mine = values[1].filter(function (item) { return item.form_key === formKey; });
      var refused = mine.filter(function (item) { return item.state === "error"; })[0];
      var conversation = values[2] || {};
      agreedGoal = conversation.goal || null;
      if (refused) {
        restore((draft && draft.client_uuid === refused.client_uuid ? draft : refused.draft) || {});
        showRefused(refused);
        return null;
      }
      planUuid = (draft && draft.client_uuid) || device.uuid();
      restore(draft || {});
      if (draft || !conversation.plan) { return null; }
      if (mine.some(function (item) { return item.client_uuid === conversation.plan; })) {
        showSaved(gettext("Planen från i dag är sparad på surfplattan och väntar på att skickas."));
        return null;
      }
      return device.get("sent:" + conversation.plan).then(function (sent) {
        if (sent) { showSaved(gettext("Planen från i dag är sparad och skickad.")); }
      });
    }).catch(function () { planUuid = device.uuid(); restore({}); }).then(function () {
      plan.setAttribute("data-restored", "");  // what the tablet kept is on screen: the page is ready
    });
  }
})();
