/* Stegvis service worker (rendered by participants/offline.py; version {{ version }}).

   - The app shell (styles, scripts, icons, the "needs a connection" page) is cached when the worker
     installs; a new release has a new version and replaces it.
   - Pages are fetched from the network first. The pages of the mentor's caseload are kept in the
     "stegvis-pages" cache (filled on the caseload page, refreshed whenever they are opened online)
     and answer when there is no connection; any other page then gets the Swedish "needs a
     connection" page instead of the browser's error.
   - In participant mode (the device's "lock") every page but the self-assessment and its
     thank-you page sends the participant back to the self-assessment.
   - A logout made without a connection is finished here, before any page is shown online.
   - Read-aloud clips and pictograms (MEDIA) are named by their content: each is kept in
     "stegvis-media" once fetched, and those of the caseload's pages are fetched with them. */
importScripts({{ device_js|safe }});

var VERSION = {{ version_json|safe }};
var SHELL = "stegvis-shell-" + VERSION;
var PAGES = "stegvis-pages";
var ASSETS = {{ assets_json|safe }};
var OFFLINE_URL = {{ offline_url_json|safe }};
var LOGIN_URL = {{ login_url_json|safe }};
var LOGOUT_URL = {{ logout_url_json|safe }};
var STATUS_URL = {{ status_url_json|safe }};
var MEDIA = {{ media_json|safe }};
var MEDIA_CACHE = "stegvis-media";
var NETWORK_TIMEOUT_MS = 6000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    return cache.addAll(ASSETS.concat([OFFLINE_URL]));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("stegvis-shell-") === 0 && name !== SHELL;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (value) { clearTimeout(timer); resolve(value); },
      function (error) { clearTimeout(timer); reject(error); });
  });
}

function isHTML(response) {
  return response && response.ok && response.type === "basic" &&
    (response.headers.get("Content-Type") || "").indexOf("text/html") === 0;
}

function allowedInParticipantMode(url, lock) {
  // The login page too: when the mentor's session ends, it is where the pages send the browser, and
  // only the mentor can get past it.
  var path = url.pathname;
  return path === new URL(lock.self_url, self.location).pathname || path === new URL(lock.done_url, self.location).pathname ||
    path === LOGIN_URL;
}

function finishLogout() {
  // A logout made offline: log the session out now, then show the login page.
  return fetch(STATUS_URL, { credentials: "same-origin", redirect: "manual", headers: { Accept: "application/json" } })
    .then(function (response) { return response.status === 200 ? response.json() : null; })
    .then(function (session) {
      if (!session) { return null; }
      return fetch(LOGOUT_URL, { method: "POST", credentials: "same-origin", redirect: "manual",
        headers: { "X-CSRFToken": session.csrf_token } });
    })
    .then(function () { return StegvisDevice.del("logoutPending"); })
    .then(function () { return Response.redirect(LOGIN_URL, 303); });
}

function page(request) {
  var url = new URL(request.url);
  return Promise.all([StegvisDevice.get("lock"), StegvisDevice.get("logoutPending")]).catch(function () {
    return [null, null];
  }).then(function (device) {
    var lock = device[0];
    if (lock && !allowedInParticipantMode(url, lock)) {
      return Response.redirect(lock.self_url, 303);
    }
    if (device[1] && self.navigator.onLine) { return finishLogout(); }
    return withTimeout(fetch(request), NETWORK_TIMEOUT_MS).then(function (response) {
      if (response.status >= 500) {  // the server or a proxy in trouble: a kept copy is better
        return caches.match(request.url, { cacheName: PAGES }).then(function (kept) { return kept || response; });
      }
      if (isHTML(response)) {  // a page the tablet keeps is kept fresh
        var copy = response.clone();
        caches.has(PAGES).then(function (has) {
          return has ? caches.open(PAGES).then(function (cache) {
            return cache.match(request.url).then(function (kept) { return kept ? cache.put(request.url, copy) : null; });
          }) : null;
        });
      }
      return response;
    }).catch(function () {
      return caches.match(request.url, { cacheName: PAGES }).then(function (kept) {
        return kept || caches.match(OFFLINE_URL);
      });
    });
  });
}

function isMedia(url) {
  var path = new URL(url, self.location).pathname;
  return MEDIA.some(function (prefix) { return path.indexOf(prefix) === 0; });
}

function media(url) {
  // Kept whole (an audio element may ask for a range: the whole file answers that too).
  return caches.open(MEDIA_CACHE).then(function (cache) {
    return cache.match(url).then(function (kept) {
      return kept || fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (response.status === 200) { return cache.put(url, response.clone()).then(function () { return response; }); }
        return response;
      });
    });
  });
}

function mediaIn(html) {
  var found = [];
  var pattern = /(?:src|data-audio)="([^"]+)"/g;
  var match;
  while ((match = pattern.exec(html)) !== null) {
    var url = new URL(match[1], self.location).href;
    if (isMedia(url) && found.indexOf(url) === -1) { found.push(url); }
  }
  return found;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    event.respondWith(page(request));
    return;
  }
  if (isMedia(request.url)) {
    event.respondWith(media(request.url));
    return;
  }
  if (ASSETS.indexOf(new URL(request.url).pathname) !== -1) {
    event.respondWith(caches.match(request).then(function (kept) { return kept || fetch(request); }));
  }
});

/* The caseload page asks for its pages to be kept; progress goes back to that page. */
function cacheCaseload(client, manifestUrl, username) {
  function tell(message) { if (client) { client.postMessage(message); } }
  return fetch(manifestUrl, { credentials: "same-origin", redirect: "manual", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (response.status !== 200) { return Promise.reject({ login: response.status === 401 || response.type === "opaqueredirect" }); }
      return response.json();
    })
    .then(function (manifest) {
      if (manifest.user !== username) { return Promise.reject({ login: true }); }
      var urls = manifest.pages.slice();
      manifest.enrolments.forEach(function (enrolment) { urls = urls.concat(enrolment.pages); });
      var wanted = urls.map(function (url) { return new URL(url, self.location).href; });
      return caches.open(PAGES).then(function (cache) {
        // Pages of participants no longer in the caseload leave the tablet.
        return cache.keys().then(function (requests) {
          return Promise.all(requests.filter(function (kept) { return wanted.indexOf(kept.url) === -1; })
            .map(function (kept) { return cache.delete(kept); }));
        }).then(function () {
          var done = 0;
          var missing = 0;
          var files = [];
          tell({ type: "caseload-progress", done: 0, total: wanted.length });
          return wanted.reduce(function (chain, url) {
            return chain.then(function () {
              return withTimeout(fetch(url, { credentials: "same-origin", redirect: "manual" }), NETWORK_TIMEOUT_MS)
                .then(function (response) {
                  if (isHTML(response)) {
                    return response.clone().text().then(function (html) {
                      mediaIn(html).forEach(function (file) { if (files.indexOf(file) === -1) { files.push(file); } });
                      return cache.put(url, response);
                    });
                  }
                  missing += 1;
                  return null;
                }).catch(function () { missing += 1; }).then(function () {
                  done += 1;
                  tell({ type: "caseload-progress", done: done, total: wanted.length });
                });
            });
          }, Promise.resolve()).then(function () {
            // The pages' clips and pictograms, one at a time; one that fails is fetched when shown.
            return files.reduce(function (chain, file) {
              return chain.then(function () { return withTimeout(media(file), NETWORK_TIMEOUT_MS).catch(function () {}); });
            }, Promise.resolve());
          }).then(function () { return missing; });
        });
      }).then(function (missing) {
        var at = new Date().toISOString();
        return StegvisDevice.set("caseloadCachedAt", at).then(function () {
          tell({ type: "caseload-cached", participants: manifest.enrolments.length, at: at, missing: missing,
            total: urls.length });
        });
      });
    })
    .catch(function (problem) { tell({ type: "caseload-error", login: Boolean(problem && problem.login) }); });
}

self.addEventListener("message", function (event) {
  var message = event.data || {};
  if (message.type === "cache-caseload") {
    event.waitUntil(cacheCaseload(event.source, message.url, message.user));
  } else if (message.type === "forget-pages") {
    event.waitUntil(caches.delete(PAGES).then(function () {
      if (event.source) { event.source.postMessage({ type: "pages-forgotten" }); }
    }));
  }
});
