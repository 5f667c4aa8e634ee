/* Stegvis assessment forms: one question group per screen, answers kept on the device as they are
   given, and a submission that survives a lost connection.

   On the tablet (data-api-url) a reading goes to the API's session_submit (POST /api/v1/bedomningar/)
   through the device's outbox (participants/static/stegvis/device.js) and the form moves on at once:
   the reading is safe on the device. Its client UUID is made here, once per reading. A public form
   (data-submit-url: a self-assessment link or a survey on the participant's phone) waits on its page
   until the server has the answers. */
(function () {
  "use strict";

  var form = document.querySelector("form[data-capture]");
  var device = window.StegvisDevice;
  if (!form || !device) { return; }

  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, name) { return values[name]; });
  };
  var tablet = Boolean(form.dataset.apiUrl);
  var draftKey = "draft:" + form.dataset.capture;
  var submittedKey = "submitted:" + form.dataset.capture;  // a reading just sent: a new one would be another
  var RECENT_SUBMIT_MS = 30 * 60000;
  var steps = Array.prototype.slice.call(form.querySelectorAll("[data-step]"));
  var progress = form.querySelector("[data-progress]");
  var progressBar = form.querySelector("[data-progress-bar]");
  var status = document.querySelector("[data-sync-status]");
  var prevButton = form.querySelector("[data-prev]");
  var nextButton = form.querySelector("[data-next]");
  var submitButton = form.querySelector("[data-submit]");
  var MISSING = "missing";  // an unanswered required question (the messages say it in words)
  var current = 0;
  var clientUuid = null;
  var singlePage = form.hasAttribute("data-single-page");  // the mentor's form: every area on one page

  function setStatus(text, kind) {
    if (!status) { return; }
    status.textContent = text;
    status.className = "sync-status " + (kind || "");
  }

  function answers() {
    var result = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name.indexOf("item-") !== 0) { return; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      if (el.value === "") { return; }
      result[el.name.slice(5)] = isNaN(Number(el.value)) ? el.value : Number(el.value);
    });
    return result;
  }

  function fill(values) {
    Object.keys(values || {}).forEach(function (code) {
      Array.prototype.forEach.call(form.querySelectorAll('[name="item-' + code + '"]'), function (el) {
        if (el.type === "radio") { el.checked = String(el.value) === String(values[code]); }
        else { el.value = values[code]; }
      });
    });
  }

  function saveDraft() {
    return device.set(draftKey, { client_uuid: clientUuid, answers: answers(), step: current, saved_at: new Date().toISOString() });
  }

  function showErrors(list, title) {
    var box = document.querySelector("[data-errors]");
    if (!box || !list || !list.length) { return; }
    box.innerHTML = "";
    var heading = document.createElement("h2");
    heading.textContent = title || gettext("Svaren skickades inte: något behöver rättas");
    var ul = document.createElement("ul");
    list.forEach(function (text) { var li = document.createElement("li"); li.textContent = text; ul.appendChild(li); });
    box.appendChild(heading);
    box.appendChild(ul);
    box.hidden = false;
    box.focus();
  }

  /* --- Required answers: named in words, focus on the question ---------------------------------- */

  function questionText(fieldset) {
    var legend = fieldset.querySelector("legend").cloneNode(true);
    Array.prototype.forEach.call(legend.querySelectorAll(".optional, .field-error, .listen"), function (el) { el.remove(); });
    return legend.textContent.trim();
  }

  /* A number answer (hours a week) that is not a whole number within its scale, or the reason. */
  function numberProblem(input) {
    var text = input.value.trim();
    if (text === "") { return input.required ? MISSING : null; }
    var min = Number(input.dataset.min), max = Number(input.dataset.max);
    if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
      return interpolate(gettext("Svara med ett heltal mellan %(min)s och %(max)s."), { min: min, max: max }, true);
    }
    return null;
  }

  /* Why a question stops the form: unanswered while required, or a number the server would refuse. */
  function problemOf(fieldset) {
    var number = fieldset.querySelector("input[data-max]");
    if (number) { return numberProblem(number); }
    return fieldset.querySelector("input[required]") && !fieldset.querySelector("input:checked") ? MISSING : null;
  }

  /* The questions of the steps that stop the form, each as {fieldset, text}. */
  function unanswered(stepList) {
    var missing = [];
    stepList.forEach(function (step) {
      Array.prototype.forEach.call(step.querySelectorAll("fieldset.item"), function (fieldset) {
        var problem = problemOf(fieldset);
        if (problem) {
          var number = fieldset.querySelector("input[data-max]");
          missing.push({ fieldset: fieldset, text: problem, min: number && number.dataset.min, max: number && number.dataset.max });
        }
      });
    });
    return missing;
  }

  function clearMissing(fieldset) {
    fieldset.classList.remove("missing");
    var message = fieldset.querySelector(".field-error");
    if (message) { message.remove(); }
    fieldset.removeAttribute("aria-describedby");
  }

  /* Refuse to go on while a required question is unanswered: say which, in words, and go to it. */
  function complain(missing, title) {
    missing.forEach(function (problem) {
      var fieldset = problem.fieldset;
      clearMissing(fieldset);
      var message = document.createElement("p");
      message.className = "field-error";
      message.id = fieldset.id + "-error";
      message.textContent = problem.text === MISSING ? gettext("Svara på den här frågan.") : problem.text;
      fieldset.querySelector("legend").insertAdjacentElement("afterend", message);
      fieldset.setAttribute("aria-describedby", message.id);
      fieldset.classList.add("missing");
    });
    showErrors(missing.map(function (problem) {
      return interpolate(problem.text === MISSING ? gettext("Svara på frågan ”%(question)s”") : gettext("Svara med ett heltal mellan %(min)s och %(max)s på frågan ”%(question)s”"),
        { min: problem.min, max: problem.max, question: questionText(problem.fieldset) }, true);
    }), title);
    var first = missing[0].fieldset.querySelector("input");
    first.focus();
    if (first.scrollIntoView) { missing[0].fieldset.scrollIntoView({ block: "center" }); }
  }

  function clearErrors() {
    var box = document.querySelector("[data-errors]");
    if (box) { box.hidden = true; box.innerHTML = ""; }
  }

  function show(index) {
    if (!steps.length) { return; }
    if (singlePage) { current = 0; return; }
    current = Math.max(0, Math.min(index, steps.length - 1));
    steps.forEach(function (step, i) { step.hidden = i !== current; });
    if (progress) { progress.textContent = interpolate(gettext("Steg %(step)s av %(steps)s"), { step: current + 1, steps: steps.length }, true); }
    if (progressBar) { progressBar.value = current + 1; progressBar.max = steps.length; }
    if (prevButton) { prevButton.hidden = current === 0; }
    if (nextButton) { nextButton.hidden = current === steps.length - 1; }
    if (submitButton) { submitButton.hidden = current !== steps.length - 1; }
    var legend = steps[current].querySelector("legend, h2");
    if (legend) { legend.setAttribute("tabindex", "-1"); legend.focus(); }
  }

  /* A reading in the making keeps its UUID: a draft's, else the one waiting in the outbox (to be
     corrected), else a new one. */
  function start() {
    return Promise.all([device.get(draftKey), device.outbox()]).then(function (values) {
      var draft = values[0];
      var queued = values[1].filter(function (item) { return item.form_key === form.dataset.capture; })[0];
      if (draft && draft.client_uuid) {
        clientUuid = draft.client_uuid;
        fill(draft.answers);
        setStatus(gettext("Svaren du gett finns kvar på enheten."), "saved");
        return draft.step || 0;
      }
      if (queued) {
        clientUuid = queued.client_uuid;
        fill(queued.body.answers);
        if (queued.state === "error") { showErrors(queued.errors); }
        else { setStatus(gettext("De här svaren är sparade och väntar på att skickas. Du kan ändra dem."), "pending"); }
        return 0;
      }
      clientUuid = form.dataset.clientUuid || device.uuid();
      return device.get(submittedKey).then(function (submitted) {
        if (submitted && Date.now() - new Date(submitted.at) < RECENT_SUBMIT_MS) {
          var at = new Date(submitted.at);
          setStatus(interpolate(gettext("De här svaren skickades kl. %(time)s. Skickar du formuläret igen blir det en ny bedömning."),
            { time: ("0" + at.getHours()).slice(-2) + ":" + ("0" + at.getMinutes()).slice(-2) }, true), "pending");
        }
        return 0;
      });
    });
  }

  function tabletItem() {
    var perspective = form.dataset.perspective;
    return {
      client_uuid: clientUuid,
      url: form.dataset.apiUrl,
      auth: true,
      user: document.body.dataset.deviceUser,
      body: {
        client_uuid: clientUuid,
        enrolment: Number(form.dataset.enrolment),
        instrument: form.dataset.instrument,
        version: Number(form.dataset.version),
        perspective: perspective,
        language: form.dataset.language,
        answers: answers(),
        occurred_at: new Date().toISOString()
      },
      enrolment: Number(form.dataset.enrolment),
      perspective: perspective,
      label: interpolate(perspective === "self" ? gettext("Självskattning %(pseudonym)s") : gettext("Bedömning %(pseudonym)s"),
        { pseudonym: form.dataset.pseudonym }, true),
      form_key: form.dataset.capture,
      form_url: form.dataset.formUrl,
      queued_at: new Date().toISOString(),
      state: "waiting"
    };
  }

  function publicItem() {
    return {
      client_uuid: clientUuid,
      url: form.dataset.submitUrl,
      auth: false,
      csrf: (form.querySelector("[name=csrfmiddlewaretoken]") || {}).value || "",
      body: { client_uuid: clientUuid, answers: answers() },
      label: gettext("Dina svar"),
      form_key: form.dataset.capture,
      queued_at: new Date().toISOString(),
      state: "waiting"
    };
  }

  /* The conversation on this tablet remembers which reading of it is which (surveys/conversation.js). */
  function remember(item) {
    var key = "conversation:" + item.enrolment;
    return device.get(key).then(function (conversation) {
      conversation = conversation || { enrolment: item.enrolment, started_at: new Date().toISOString() };
      conversation[item.perspective] = item.client_uuid;
      return device.set(key, conversation);
    });
  }

  function waitForServer(item) {
    setStatus(gettext("Skickar …"), "pending");
    return device.flush().then(function () { return device.outbox(); }).then(function (items) {
      var still = items.filter(function (queued) { return queued.client_uuid === item.client_uuid; })[0];
      if (!still) {
        setStatus(gettext("Skickat. Tack!"), "saved");
        device.del(draftKey).then(function () { window.location.assign(form.dataset.doneUrl); });
      } else if (still.state === "error") {
        showErrors(still.errors);
        device.unqueue(still.client_uuid);  // the answers are back in the form and in the draft
        setStatus(gettext("Svaren skickades inte: något behöver rättas."), "error");
      } else {
        setStatus(gettext("Ingen anslutning just nu. Dina svar är sparade i telefonen och skickas när den får kontakt. Stäng inte sidan."), "pending");
        window.setTimeout(function () { waitForServer(item); }, 10000);
      }
    });
  }

  /* Back to a form already sent (the browser's page cache keeps its answers and its UUID): load it
     afresh, so that it says it was sent and a new send is a new reading, not the old one changed. */
  window.addEventListener("pageshow", function (event) { if (event.persisted) { window.location.reload(); } });

  form.addEventListener("input", saveDraft);
  form.addEventListener("change", saveDraft);
  if (prevButton) { prevButton.addEventListener("click", function () { show(current - 1); saveDraft(); }); }
  if (nextButton) {
    nextButton.addEventListener("click", function () {
      var missing = unanswered([steps[current]]);
      if (missing.length) {
        var allMissing = missing.every(function (problem) { return problem.text === MISSING; });
        complain(missing, allMissing ? gettext("Svara på frågan innan du går vidare") : gettext("Rätta svaret innan du går vidare"));
        return;
      }
      clearErrors();
      show(current + 1);
      saveDraft();
    });
  }
  form.addEventListener("change", function (event) {
    var fieldset = event.target.closest && event.target.closest("fieldset.item");
    if (fieldset && fieldset.classList.contains("missing") && !problemOf(fieldset)) { clearMissing(fieldset); }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!clientUuid) { return; }
    var missing = unanswered(steps);
    if (missing.length) {
      var step = missing[0].fieldset.closest("[data-step]");
      if (!singlePage) { show(steps.indexOf(step)); missing = unanswered([step]); }
      var onlyUnanswered = missing.every(function (problem) { return problem.text === MISSING; });
      complain(missing, onlyUnanswered ? gettext("Svaren är inte skickade: svara på frågan först")
        : gettext("Svaren skickades inte: något behöver rättas"));
      return;
    }
    var item = tablet ? tabletItem() : publicItem();
    // First on the device for good, then the draft goes: at no moment are the answers only in memory.
    device.queue(item).then(function () {
      if (!tablet) { return waitForServer(item); }
      return remember(item).then(function () {
        return Promise.all([device.del(draftKey), device.set(submittedKey, { client_uuid: item.client_uuid, at: new Date().toISOString() })]);
      }).then(function () {
        setStatus(gettext("Sparat på surfplattan."), "saved");
        window.location.assign(form.dataset.doneUrl);  // whose page sends it (app.js), or keeps it
      });
    }).catch(function () {
      setStatus(gettext("Svaren kunde inte sparas på enheten. Låt sidan vara öppen och försök igen."), "error");
    });
  });

  if (singlePage) {
    [prevButton, nextButton].forEach(function (button) { if (button) { button.hidden = true; } });
    if (progress) { progress.parentNode.hidden = true; }
  } else {
    form.classList.add("js-steps");
  }
  start().then(function (step) { show(step); }, function () {
    clientUuid = form.dataset.clientUuid || device.uuid();
    show(0);
  });
})();
