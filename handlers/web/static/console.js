/* The console's live pages (a report, the queue) and the report's small map.
 * Every few seconds a live page asks the server for its version; when it moved (a step taken
 * on Telegram or by a colleague, a new report) it fetches the page again and swaps in the
 * live parts that differ, keeping what is being typed, and says so. The report's point
 * arrives already in the tiles' datum (the server shifts it for GCJ-02 tiles). */
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
  // A photo over the limit is refused here, before the upload: the note typed stays.
  document.addEventListener("change", function (e) {
    var input = e.target;
    if (!input.dataset || !input.dataset.max || !input.files) return;
    var big = input.files.length && input.files[0].size > parseInt(input.dataset.max, 10);
    input.setCustomValidity(big ? input.dataset.tooBig : "");
    if (big) input.reportValidity();
  });
  var page = document.querySelector("[data-version-url]");
  if (!page) return;
  var version = page.dataset.version || null; // the queue learns its version at the first poll
  var seconds = parseInt(page.dataset.poll, 10) || 4;
  var busy = false;

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    if (!fresh.getElementById(page.id)) return false;
    var changed = false;
    document.querySelectorAll("[data-live]").forEach(function (old) {
      var part = fresh.getElementById(old.id);
      if (!part || part.innerHTML === old.innerHTML) return;
      changed = true;
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
    if (changed) document.getElementById("changed").hidden = false;
    return true;
  }

  function poll() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(page.dataset.versionUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (found) {
        if (!found || found.version === version) return null;
        return fetch(location.href, { credentials: "same-origin", cache: "no-store" })
          .then(function (r) { return r.ok ? r.text() : ""; })
          .then(function (html) { if (swap(html)) version = found.version; });
      })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { busy = false; });
  }
  setInterval(poll, seconds * 1000);
})();
