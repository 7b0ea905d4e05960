// The kiosk's service worker: the page, its script and stylesheet come
// from the tablet's cache when the network is down, so a reload while
// offline still shows the kiosk and its waiting answers. Calls to the
// gateway (/kiosk/api/) always go to the network. It takes over from the
// next load of the page, not the one that installed it.
"use strict";
var CACHE = "kiosk-v1", FILES = ["/kiosk", "/kiosk/app.js", "/kiosk/app.css"];

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(FILES); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }));
});

// Network first, so an update reaches the tablet at once; the cache when
// the network fails.
self.addEventListener("fetch", function (e) {
  var url = new URL(e.request.url);
  if (e.request.method !== "GET" || FILES.indexOf(url.pathname) < 0) { return; }
  e.respondWith(fetch(e.request).then(function (res) {
    if (res.ok) { var copy = res.clone(); caches.open(CACHE).then(function (c) { c.put(url.pathname, copy); }); }
    return res;
  }).catch(function () { return caches.match(url.pathname); }));
});
