/* Stegvis on the device: what the tablet keeps (IndexedDB) and the outbox that sends readings.

   One database, "stegvis", with two stores:
   - "kv": small records by key: drafts ("draft:<form>"), conversations ("conversation:<enrolment>"),
     readings sent in a conversation ("sent:<uuid>"), participant mode ("lock"), the device's user
     ("deviceUser"), the last successful sync ("lastSync"), a logout to finish ("logoutPending").
   - "outbox": readings waiting for the server, keyed by their client UUID.

   A reading leaves the outbox only when the server has answered 201 or 200 with the same client
   UUID: never on a redirect, an HTML page or an error. Resending is harmless, the server is
   idempotent on the UUID. Nothing here holds a name, a personnummer or contact details: pseudonyms,
   answers and the instrument only. Loaded by the pages and by the service worker (importScripts),
   so it touches no DOM. */
(function (scope) {
  "use strict";

  var DB_NAME = "stegvis";
  var DB_VERSION = 1;
  var dbPromise = null;

  function open() {
    if (dbPromise) { return dbPromise; }
    dbPromise = new Promise(function (resolve, reject) {
      var request = scope.indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains("kv")) { db.createObjectStore("kv"); }
        if (!db.objectStoreNames.contains("outbox")) { db.createObjectStore("outbox", { keyPath: "client_uuid" }); }
      };
      request.onsuccess = function () {
        var db = request.result;
        db.onversionchange = function () { db.close(); dbPromise = null; };
        resolve(db);
      };
      request.onerror = function () { dbPromise = null; reject(request.error); };
    });
    return dbPromise;
  }

  function run(storeName, mode, action) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(storeName, mode);
        var result;
        var request = action(transaction.objectStore(storeName));
        if (request) { request.onsuccess = function () { result = request.result; }; }
        transaction.oncomplete = function () { resolve(result); };
        transaction.onerror = function () { reject(transaction.error); };
        transaction.onabort = function () { reject(transaction.error); };
      });
    });
  }

  function changed(detail) {
    if (scope.document) { scope.document.dispatchEvent(new CustomEvent("stegvis:device", { detail: detail || {} })); }
  }

  var device = {
    get: function (key) { return run("kv", "readonly", function (store) { return store.get(key); }); },
    set: function (key, value) { return run("kv", "readwrite", function (store) { return store.put(value, key); }); },
    del: function (key) { return run("kv", "readwrite", function (store) { return store.delete(key); }); },
    keys: function () { return run("kv", "readonly", function (store) { return store.getAllKeys(); }); },
    /* What waits, in the order it was saved: a plan agreed later must reach the server later. */
    outbox: function () {
      return run("outbox", "readonly", function (store) { return store.getAll(); }).then(function (items) {
        return items.sort(function (a, b) { return String(a.queued_at || "").localeCompare(String(b.queued_at || "")); });
      });
    },
    queue: function (item) {
      return run("outbox", "readwrite", function (store) { return store.put(item); }).then(function () { changed(); });
    },
    unqueue: function (uuid) {
      return run("outbox", "readwrite", function (store) { return store.delete(uuid); }).then(function () { changed(); });
    },
    /* Everything this device keeps, outbox included (logout, or another user on the tablet). */
    clear: function () {
      return Promise.all([
        run("kv", "readwrite", function (store) { return store.clear(); }),
        run("outbox", "readwrite", function (store) { return store.clear(); })
      ]).then(function () { changed(); });
    },
    /* What is kept for a user other than `username`: their drafts, conversations and lock. Their
       outbox items stay until they log in again; they hold pseudonyms and answers only. */
    forgetAllBut: function (username) {
      return device.keys().then(function (keys) {
        return Promise.all(keys.filter(function (key) {
          return /^(draft|conversation|sent|plan|submitted):/.test(key) || key === "lock";
        }).map(device.del));
      }).then(function () { return device.set("deviceUser", username); });
    },
    uuid: function () {
      if (scope.crypto && scope.crypto.randomUUID) { return scope.crypto.randomUUID(); }
      var bytes = scope.crypto.getRandomValues(new Uint8Array(16));
      bytes[6] = (bytes[6] & 0x0f) | 0x40;
      bytes[8] = (bytes[8] & 0x3f) | 0x80;
      var hex = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
    },
    /* PBKDF2 of the participant-mode code, so that the code itself is never stored. */
    hashCode: function (code, salt) {
      var encoder = new TextEncoder();
      return scope.crypto.subtle.importKey("raw", encoder.encode(code), "PBKDF2", false, ["deriveBits"]).then(function (key) {
        return scope.crypto.subtle.deriveBits(
          { name: "PBKDF2", hash: "SHA-256", salt: encoder.encode(salt), iterations: 150000 }, key, 256
        );
      }).then(function (bits) {
        return Array.prototype.map.call(new Uint8Array(bits), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      });
    },
    changed: changed
  };

  /* --- Sending -------------------------------------------------------------------------------- */

  var statusUrl = null;
  var currentUser = null;
  var flushing = null;
  var FETCH_TIMEOUT_MS = 15000;  // a request that never gets an answer must not stop the rest
  var state = { login: false, offline: false, waitingFor: null };

  function fetchJSON(url, options) {
    var controller = scope.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, FETCH_TIMEOUT_MS) : null;
    return fetch(url, Object.assign({ credentials: "same-origin", redirect: "manual",
      headers: { Accept: "application/json" }, signal: controller ? controller.signal : undefined }, options || {}))
      .then(function (response) {
        var isJSON = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        return (isJSON ? response.json() : Promise.resolve(null)).catch(function () { return null; }).then(function (body) {
          return { status: response.type === "opaqueredirect" ? 0 : response.status, json: isJSON && body !== null, body: body };
        });
      })
      .then(function (result) { clearTimeout(timer); return result; }, function (error) { clearTimeout(timer); throw error; });
  }

  /* The session's state and a fresh CSRF token: {status: 200, body: {user, csrf_token}}, or a 401. */
  device.session = function () {
    if (!statusUrl) { return Promise.resolve({ status: 0 }); }
    return fetchJSON(statusUrl).then(function (session) {
      if (session.status === 401 && session.json) { loggedOut(); }
      return session;
    });
  };

  /* The server says the session has ended: what the tablet kept of the caseload leaves it (it comes
     back at the next login); readings waiting in the outbox and participant mode stay. */
  function loggedOut() {
    state.login = true;
    if (scope.caches) { scope.caches.delete("stegvis-pages"); }
  }

  function post(item, csrf) {
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (csrf) { headers["X-CSRFToken"] = csrf; }
    return fetchJSON(item.url, { method: "POST", headers: headers, body: JSON.stringify(item.body) });
  }

  function confirmed(item, result) {
    return (result.status === 201 || result.status === 200) && result.json &&
      String(result.body.client_uuid) === String(item.client_uuid);
  }

  function messages(body) {
    if (!body) { return ["Servern svarade inte som väntat."]; }
    if (body.detail) { return [String(body.detail)]; }
    var errors = body.errors || body;
    var list = [];
    Object.keys(errors).forEach(function (key) {
      if (key === "code" || key === "stored_answers") { return; }
      var value = errors[key];
      list.push(Array.isArray(value) ? value.join(" ") : String(value));
    });
    return list.length ? list : ["Servern tog inte emot svaren."];
  }

  function markError(item, result) {
    item.state = "error";
    item.errors = messages(result.body);
    item.status = result.status;
    item.conflict = Boolean(result.body && result.body.code === "conflict");
    return device.queue(item);
  }

  function sent(item) {
    var record = { enrolment: item.enrolment || null, perspective: item.perspective || null,
      answers: (item.body && item.body.answers) || {}, sent_at: new Date().toISOString() };
    var draftKey = "draft:" + item.form_key;
    return Promise.all([
      item.enrolment ? device.set("sent:" + item.client_uuid, record) : null,
      device.set("lastSync", record.sent_at),
      device.unqueue(item.client_uuid),
      // A draft begun from this reading (opened to correct it) must not reuse its UUID later.
      device.get(draftKey).then(function (draft) {
        return draft && draft.client_uuid === item.client_uuid ? device.del(draftKey) : null;
      })
    ]).then(function () { changed({ sent: item }); });
  }

  /* Whether a refusal is the server's own answer about this reading (JSON), so that the mentor must
     look at it; anything else (a proxy's page, a captive portal) is tried again later. */
  function refusedByServer(result) {
    return result.json && [400, 403, 404, 409, 410].indexOf(result.status) !== -1;
  }

  function sendAll(items, csrf, retriedCsrf) {
    if (!items.length) { return Promise.resolve(); }
    var item = items[0];
    return post(item, item.auth ? csrf : item.csrf).catch(function (error) {
      // No answer (a timeout, a reset connection): offline, everything waits; online, only this one does.
      if (!scope.navigator.onLine) { throw error; }
      return { status: -1, json: false, body: null };
    }).then(function (result) {
      if (result.status === -1) { return sendAll(items.slice(1), csrf, false); }
      if (confirmed(item, result)) { return sent(item).then(function () { return sendAll(items.slice(1), csrf, false); }); }
      if (result.status === 403 && result.json && result.body.code === "csrf" && !retriedCsrf) {
        return device.session().then(function (session) {
          if (session.status !== 200 || !session.json) { return null; }
          return sendAll(items, session.body.csrf_token, true);
        });
      }
      if (result.status === 401 || result.status === 0) {
        // Logged out, or redirected (the login page, or a captive portal): ask the session which.
        return item.auth ? device.session().then(function () { return null; }) : null;
      }
      if (refusedByServer(result)) {
        return markError(item, result).then(function () { return sendAll(items.slice(1), csrf, false); });
      }
      if (result.status >= 500) {
        // A server error on this one: it waits for the next try, and the rest go on without it.
        return sendAll(items.slice(1), csrf, false);
      }
      return null;  // an outage or a proxy's page: try again later, keep everything
    });
  }

  /* Send what is waiting. A staff reading is sent only in its own mentor's session. Resolves with the
     summary. */
  device.flush = function () {
    if (flushing) { return flushing; }
    flushing = device.outbox().then(function (items) {
      var waiting = items.filter(function (item) { return item.state !== "error"; });
      state.offline = !scope.navigator.onLine;
      if (!waiting.length || state.offline) { return null; }
      var open = waiting.filter(function (item) { return !item.auth; });
      var staff = waiting.filter(function (item) { return item.auth; });
      return sendAll(open, null, false).then(function () {
        if (!staff.length) { return null; }
        return device.session().then(function (session) {
          if (session.status !== 200 || !session.json) { return null; }
          state.login = false;
          var mine = staff.filter(function (item) { return item.user === session.body.user; });
          return sendAll(mine, session.body.csrf_token, false);
        });
      });
    }).catch(function () { state.offline = !scope.navigator.onLine; }).then(function () {
      flushing = null;
      return device.summary();
    });
    return flushing;
  };

  function own(item) { return !item.auth || !currentUser || item.user === currentUser; }

  /* What waits for the user of this page; readings of another mentor on the tablet are counted apart. */
  device.summary = function () {
    return Promise.all([device.outbox(), device.get("lastSync")]).then(function (values) {
      var items = values[0].filter(own);
      var others = values[0].filter(function (item) { return !own(item); });
      state.waitingFor = others.length ? others[0].user : null;
      return {
        waiting: items.filter(function (item) { return item.state !== "error"; }).length,
        errors: items.filter(function (item) { return item.state === "error"; }).length,
        items: items,
        othersWaiting: others.length,
        lastSync: values[1] || null,
        login: state.login,
        offline: state.offline || !scope.navigator.onLine,
        waitingFor: state.waitingFor
      };
    }).then(function (summary) {
      if (scope.document) { scope.document.dispatchEvent(new CustomEvent("stegvis:summary", { detail: summary })); }
      return summary;
    });
  };

  /* Logout: this user's drafts, conversations, kept pages and outbox leave the tablet; another
     mentor's unsent readings stay until that mentor logs in. */
  device.clearForLogout = function () {
    return device.outbox().then(function (items) {
      return Promise.all(items.filter(own).map(function (item) {
        return run("outbox", "readwrite", function (store) { return store.delete(item.client_uuid); });
      }));
    }).then(function () {
      return run("kv", "readwrite", function (store) { return store.clear(); });
    }).then(function () { changed(); });
  };

  device.configure = function (options) {
    statusUrl = options.statusUrl || statusUrl;
    currentUser = options.user || currentUser;
  };
  device.state = state;

  scope.StegvisDevice = device;
})(typeof self !== "undefined" ? self : window);
