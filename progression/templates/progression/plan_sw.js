/* Min plan's service worker (rendered by progression/plan_views.py), scope /min-plan/.

   - A participant's plan page is fetched from the network first and kept; without a connection the
     kept copy answers, so the plan opens offline once it has been visited.
   - A link that no longer works (revoked, avslut, erasure, consent withdrawn) answers 410: that
     answer replaces every kept copy of the page, so the plan is gone from the phone as soon as it has
     been online again.
   - The page's styles, scripts and the scripts' translations are kept the same way.
   - Nothing outside /min-plan/ is touched: the app's own worker (/sw.js, scope /) keeps the mentor's
     tablet, and its caches are not this worker's. */
var VERSION = {{ version_json|safe }};
var SCOPE = {{ scope_json|safe }};
var CACHE = "stegvis-min-plan";
var ASSETS = {{ assets_json|safe }};
var OFFLINE_PAGE = {{ offline_json|safe }};
var NETWORK_TIMEOUT_MS = 8000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    // One by one: a file that cannot be fetched now is fetched when a page asks for it.
    return Promise.all(ASSETS.map(function (url) {
      return fetch(url, { credentials: "same-origin", cache: "no-cache" }).then(function (response) {
        return response.ok ? cache.put(url, response) : null;
      }).catch(function () { return null; });
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (value) { clearTimeout(timer); resolve(value); },
      function (error) { clearTimeout(timer); reject(error); });
  });
}

function isPlanPage(url) {
  return url.origin === self.location.origin && url.pathname.indexOf(SCOPE) === 0 && url.pathname !== SCOPE + "sw.js";
}

function keep(url, response) {
  // 200: the plan as it is now. 410: the link no longer works; every copy of the page goes (any
  // ?sprak=), and the answer saying so takes its place.
  if (response.status !== 200 && response.status !== 410) { return Promise.resolve(); }
  var copy = response.clone();
  return caches.open(CACHE).then(function (cache) {
    var gone = response.status === 410 ? cache.keys(url, { ignoreSearch: true }).then(function (requests) {
      return Promise.all(requests.map(function (kept) { return cache.delete(kept); }));
    }) : Promise.resolve();
    return gone.then(function () { return cache.put(url, copy); });
  });
}

function kept(url, page) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(url).then(function (response) {
      // The same plan in the link's own language when this ?sprak= was never opened.
      return response || (page ? cache.match(url, { ignoreSearch: true }) : undefined);
    });
  });
}

function networkFirst(event, page) {
  var request = event.request;
  return withTimeout(fetch(request), NETWORK_TIMEOUT_MS).then(function (response) {
    event.waitUntil(keep(request.url, response));
    return response;
  }).catch(function (error) {
    return kept(request.url, page).then(function (response) {
      if (response) { return response; }
      if (page) {
        return new Response(OFFLINE_PAGE, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
      }
      throw error;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (request.mode === "navigate" && isPlanPage(url)) {
    event.respondWith(networkFirst(event, true));
  } else if (url.origin === self.location.origin && ASSETS.indexOf(url.pathname) !== -1) {
    event.respondWith(networkFirst(event, false));
  }
});

/* The page opened before this worker was there (the first visit) asks for itself to be kept. */
self.addEventListener("message", function (event) {
  var message = event.data || {};
  if (message.type !== "keep-plan" || typeof message.url !== "string") { return; }
  var url = new URL(message.url, self.location);
  if (!isPlanPage(url)) { return; }
  event.waitUntil(fetch(url.href, { credentials: "same-origin" }).then(function (response) {
    return keep(url.href, response);
  }).catch(function () { return null; }));
});
