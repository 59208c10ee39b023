/* The county's pages: the period picker, and the map of reports.
 * Picking dates switches the period to "from–to". The map asks the server for the reports
 * in its view (GeoJSON, already in the tiles' datum) whenever it moves or a filter changes,
 * and draws each as a dot coloured by its state (overdue: larger, ringed in red) or the
 * server's clusters with their counts; a dot opens its report, a cluster zooms in. */
(function () {
  "use strict";
  var period = document.getElementById("period");
  ["from", "to"].forEach(function (id) {
    var field = document.getElementById(id);
    if (field && period) field.addEventListener("change", function () { period.value = "range"; });
  });

  var box = document.getElementById("countymap");
  if (!box || !window.L) return;
  var d = box.dataset;
  var map = L.map(box).fitBounds([[+d.south, +d.west], [+d.north, +d.east]]);
  L.tileLayer(d.tiles, { subdomains: d.subdomains, attribution: d.attribution, maxZoom: 19 }).addTo(map);
  var layer = L.layerGroup().addTo(map);
  var form = document.getElementById("map-filters");
  var status = document.getElementById("map-status");
  var asked = 0;

  function filters() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { if (value) params.set(key, value); });
    if (params.get("period") !== "range") { params.delete("from"); params.delete("to"); }
    return params;
  }

  function load() {
    var mine = ++asked;
    var params = filters();
    history.replaceState(null, "", "?" + params.toString());
    params.set("bbox", map.getBounds().toBBoxString());
    status.textContent = d.loading;
    fetch(d.url + "?" + params.toString(), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (answer) {
        if (mine !== asked) return;  // a later view was asked for meanwhile
        if (!answer.ok) { status.textContent = answer.body.error || d.failed; return; }
        draw(answer.body);
      })
      .catch(function () { if (mine === asked) status.textContent = d.failed; });
  }

  function draw(found) {
    layer.clearLayers();
    var count = 0;
    found.features.forEach(function (f) {
      var at = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      var p = f.properties;
      if (p.cluster && p.count > 1) {
        var size = 28 + Math.min(24, Math.round(Math.log(p.count) * 4));
        var icon = L.divIcon({
          className: "cluster state-" + p.state, html: String(p.count), iconSize: [size, size]
        });
        L.marker(at, { icon: icon, title: String(p.count) }).addTo(layer)
          .on("click", function () { map.setView(at, Math.min(map.getZoom() + 2, 19)); });
        count += p.count;
      } else {
        var late = p.state === "overdue";
        var pin = L.divIcon({ className: "pin state-" + p.state, iconSize: late ? [22, 22] : [14, 14] });
        L.marker(at, { icon: pin, title: "#" + p.id, zIndexOffset: late ? 1000 : 0 }).addTo(layer)
          .on("click", function () { location.href = p.href; });
        count += 1;
      }
    });
    // A sampled answer (a very large view) counts every k-th report, times k: about.
    var shown = (found.sampled ? "≈" : "") + count;
    status.textContent = (found.clustered ? d.clustered : d.shown).replace("{count}", shown);
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); load(); });
  form.addEventListener("change", load);
  map.on("moveend", load);
  load();
})();
