/* Stegvis assessment forms: one question group per screen, answers kept on the device,
   submission that survives a lost connection. Progressive enhancement: without JavaScript
   the form shows every question and posts normally. */
(function () {
  "use strict";

  var form = document.querySelector("form[data-capture]");
  if (!form) { return; }

  var storageKey = "stegvis:draft:" + form.dataset.capture;
  var outboxKey = "stegvis:outbox";
  var steps = Array.prototype.slice.call(form.querySelectorAll("[data-step]"));
  var progress = form.querySelector("[data-progress]");
  var progressBar = form.querySelector("[data-progress-bar]");
  var status = document.querySelector("[data-sync-status]");
  var prevButton = form.querySelector("[data-prev]");
  var nextButton = form.querySelector("[data-next]");
  var submitButton = form.querySelector("[data-submit]");
  var current = 0;

  function readJSON(key, fallback) {
    try { return JSON.parse(window.localStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
  }
  function writeJSON(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* storage full or disabled */ }
  }

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
      result[el.name.slice(5)] = el.type === "number" ? Number(el.value) : (isNaN(Number(el.value)) ? el.value : Number(el.value));
    });
    return result;
  }

  function saveDraft() {
    writeJSON(storageKey, { client_uuid: form.elements.client_uuid.value, answers: answers(), saved_at: Date.now() });
  }

  function restoreDraft() {
    var draft = readJSON(storageKey, null);
    if (!draft) { return; }
    form.elements.client_uuid.value = draft.client_uuid;
    Object.keys(draft.answers || {}).forEach(function (code) {
      var fields = form.querySelectorAll('[name="item-' + code + '"]');
      Array.prototype.forEach.call(fields, function (el) {
        if (el.type === "radio") { el.checked = String(el.value) === String(draft.answers[code]); }
        else { el.value = draft.answers[code]; }
      });
    });
    setStatus("Dina svar finns kvar på enheten.", "saved");
  }

  function show(index) {
    if (!steps.length) { return; }
    current = Math.max(0, Math.min(index, steps.length - 1));
    steps.forEach(function (step, i) { step.hidden = i !== current; });
    if (progress) { progress.textContent = "Steg " + (current + 1) + " av " + steps.length; }
    if (progressBar) { progressBar.value = current + 1; progressBar.max = steps.length; }
    if (prevButton) { prevButton.hidden = current === 0; }
    if (nextButton) { nextButton.hidden = current === steps.length - 1; }
    if (submitButton) { submitButton.hidden = current !== steps.length - 1; }
    var legend = steps[current].querySelector("legend, h2");
    if (legend) { legend.setAttribute("tabindex", "-1"); legend.focus(); }
  }

  function payload() {
    return {
      client_uuid: form.elements.client_uuid.value,
      answers: answers(),
      submit_url: form.dataset.submitUrl,
      done_url: form.dataset.doneUrl
    };
  }

  function csrfToken() {
    var el = form.querySelector("[name=csrfmiddlewaretoken]");
    return el ? el.value : "";
  }

  function send(item) {
    return fetch(item.submit_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": item.csrf || csrfToken() },
      body: JSON.stringify({ client_uuid: item.client_uuid, answers: item.answers })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { ok: response.ok, status: response.status, body: body };
      });
    });
  }

  function showErrors(body) {
    var box = document.querySelector("[data-errors]");
    if (!box) { return; }
    var list = [];
    var errors = (body && body.errors) || {};
    Object.keys(errors).forEach(function (key) { list.push(errors[key]); });
    if (body && body.detail) { list.push(body.detail); }
    box.innerHTML = "";
    var ul = document.createElement("ul");
    list.forEach(function (text) { var li = document.createElement("li"); li.textContent = text; ul.appendChild(li); });
    var h = document.createElement("h2"); h.textContent = "Något behöver rättas";
    box.appendChild(h); box.appendChild(ul);
    box.hidden = false;
    box.focus();
  }

  function flushOutbox() {
    var outbox = readJSON(outboxKey, []);
    if (!outbox.length) { return Promise.resolve(); }
    setStatus("Skickar " + outbox.length + " sparade svar …", "pending");
    var item = outbox[0];
    return send(item).then(function (result) {
      if (result.ok || result.status === 400 || result.status === 409 || result.status === 410) {
        outbox.shift();
        writeJSON(outboxKey, outbox);
        if (result.ok) {
          window.localStorage.removeItem("stegvis:draft:" + item.form_key);
          setStatus("Skickat. Allt är sparat.", "saved");
          if (item.form_key === form.dataset.capture && item.done_url) { window.location.assign(item.done_url); }
        } else if (item.form_key === form.dataset.capture) {
          showErrors(result.body);
          setStatus("Svaren skickades inte: något behöver rättas.", "error");
        }
        return flushOutbox();
      }
      setStatus("Ingen kontakt med servern. Svaren är sparade på enheten och skickas automatiskt.", "pending");
    }).catch(function () {
      setStatus("Ingen anslutning. Svaren är sparade på enheten och skickas när anslutningen är tillbaka.", "pending");
    });
  }

  form.addEventListener("input", saveDraft);
  form.addEventListener("change", saveDraft);
  if (prevButton) { prevButton.addEventListener("click", function () { show(current - 1); }); }
  if (nextButton) { nextButton.addEventListener("click", function () { show(current + 1); }); }

  form.addEventListener("submit", function (event) {
    if (!form.dataset.submitUrl) { return; }
    if (event.submitter && event.submitter.name === "draft") { return; }
    event.preventDefault();
    saveDraft();
    var item = payload();
    item.form_key = form.dataset.capture;
    item.csrf = csrfToken();
    var outbox = readJSON(outboxKey, []).filter(function (queued) { return queued.client_uuid !== item.client_uuid; });
    outbox.push(item);
    writeJSON(outboxKey, outbox);
    if (!navigator.onLine) {
      setStatus("Ingen anslutning. Svaren är sparade på enheten och skickas när anslutningen är tillbaka.", "pending");
      return;
    }
    flushOutbox();
  });

  window.addEventListener("online", flushOutbox);
  window.setInterval(function () { if (navigator.onLine) { flushOutbox(); } }, 15000);

  form.classList.add("js-steps");
  restoreDraft();
  show(0);
  if (navigator.onLine) { flushOutbox(); }
})();
