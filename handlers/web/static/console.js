/* The console's report page: a small map of the spot, and a live page. Every few seconds it
 * asks the server for the report's version; when a step was taken elsewhere (on Telegram, by
 * a colleague) it fetches the page and swaps in its live parts, keeping what is being typed.
 * The point arrives already in the tiles' datum (the server shifts it for GCJ-02 tiles). */
(function () {
  "use strict";
  var box = document.getElementById("map");
  if (box && window.L) {
    var at = [parseFloat(box.dataset.lat), parseFloat(box.dataset.lon)];
    var map = L.map(box, { scrollWheelZoom: false }).setView(at, 16);
    L.tileLayer(box.dataset.tiles, {
      subdomains: box.dataset.subdomains, attribution: box.dataset.attribution, maxZoom: 19
    }).addTo(map);
    L.marker(at).addTo(map);
  }
  var report = document.getElementById("report");
  if (!report) return;
  var version = report.dataset.version;
  var seconds = parseInt(report.dataset.poll, 10) || 4;
  var busy = false;

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var next = fresh.getElementById("report");
    if (!next) return;
    document.querySelectorAll("[data-live]").forEach(function (old) {
      var part = fresh.getElementById(old.id);
      if (!part) return;
      // Words being typed, and a photo chosen, survive the swap (the file input itself moves).
      var typed = {};
      old.querySelectorAll("textarea").forEach(function (t) { if (t.value) typed[t.name] = t.value; });
      old.querySelectorAll("input[type=file]").forEach(function (f) {
        var same = part.querySelector("input[type=file][name='" + f.name + "']");
        if (same && f.files && f.files.length) same.replaceWith(f);
      });
      old.replaceWith(part);
      part.querySelectorAll("textarea").forEach(function (t) {
        if (typed[t.name]) t.value = typed[t.name];
      });
    });
    version = next.dataset.version;
    report.dataset.version = version;
    document.getElementById("changed").hidden = false;
  }

  function poll() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(report.dataset.versionUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (found) {
        if (!found || found.version === version) return null;
        return fetch(location.pathname, { credentials: "same-origin", cache: "no-store" })
          .then(function (r) { return r.text(); })
          .then(swap);
      })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { busy = false; });
  }
  setInterval(poll, seconds * 1000);
})();
