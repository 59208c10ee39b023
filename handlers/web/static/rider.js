/* The riders' page: photos (downscaled here before upload), location on a map, category,
 * note, submit. Plain ES2017, no build step, so it runs in WeChat's browser as it is.
 * What is sent is WGS-84; the map may draw GCJ-02 (Chinese tiles), so the pin is shifted
 * for display only. Submitting again with the same key never makes a second report. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("config").textContent);
  var lang = cfg.lang;
  var state = { photos: [], pending: 0, point: null, source: null, category: null, busy: false, similar: null };
  var locKey = "";
  var key = newKey();

  function $(id) { return document.getElementById(id); }
  function tr(name, values) {
    var text = cfg.texts[lang][name] || name;
    return text.replace(/\{(\w+)\}/g, function (all, k) {
      return values && values[k] !== undefined ? values[k] : all;
    });
  }
  function newKey() {
    var bytes = new Uint8Array(18);
    crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode.apply(null, bytes))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // ---- language: one tap, nothing entered is lost -------------------------------------
  function applyLanguage() {
    document.documentElement.lang = lang === "zh" ? "zh-Hans" : "en";
    document.querySelectorAll("[data-t]").forEach(function (el) {
      el.textContent = tr(el.getAttribute("data-t"), { limit: cfg.maxPhotos });
    });
    document.querySelectorAll("[data-tp]").forEach(function (el) {
      el.placeholder = tr(el.getAttribute("data-tp"));
    });
    document.querySelectorAll(".cat .name").forEach(function (el) {
      el.textContent = el.getAttribute("data-" + lang);
    });
    $("loc-status").textContent = locKey ? tr(locKey) : "";
    renderSimilar();
    update();
  }
  $("lang").addEventListener("click", function () {
    lang = lang === "zh" ? "en" : "zh";
    document.cookie = "lang=" + lang + "; path=/; max-age=34560000; samesite=lax";
    applyLanguage();
  });

  // ---- WGS-84 <-> GCJ-02 (the same formula as bot/domain/geo.py) ------------------------------
  var A = 6378245.0, EE = 0.00669342162296594323, PI = Math.PI;
  function outOfChina(p) {
    return !(p.lng >= 72.004 && p.lng <= 137.8347 && p.lat >= 0.8293 && p.lat <= 55.8271);
  }
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
    r += (20 * Math.sin(y * PI) + 40 * Math.sin(y / 3 * PI)) * 2 / 3;
    return r + (160 * Math.sin(y / 12 * PI) + 320 * Math.sin(y * PI / 30)) * 2 / 3;
  }
  function tLng(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
    r += (20 * Math.sin(x * PI) + 40 * Math.sin(x / 3 * PI)) * 2 / 3;
    return r + (150 * Math.sin(x / 12 * PI) + 300 * Math.sin(x / 30 * PI)) * 2 / 3;
  }
  function offset(lat, lng) {
    var dLat = tLat(lng - 105, lat - 35), dLng = tLng(lng - 105, lat - 35);
    var rad = lat / 180 * PI, magic = 1 - EE * Math.sin(rad) * Math.sin(rad);
    var sq = Math.sqrt(magic);
    return [dLat * 180 / ((A * (1 - EE)) / (magic * sq) * PI), dLng * 180 / (A / sq * Math.cos(rad) * PI)];
  }
  function wgsToGcj(p) {
    if (outOfChina(p)) return p;
    var d = offset(p.lat, p.lng);
    return { lat: p.lat + d[0], lng: p.lng + d[1] };
  }
  function gcjToWgs(p) {
    if (outOfChina(p)) return p;
    var lat = p.lat, lng = p.lng;
    for (var i = 0; i < 30; i++) {
      var d = offset(lat, lng), nLat = p.lat - d[0], nLng = p.lng - d[1];
      var done = Math.abs(nLat - lat) < 1e-10 && Math.abs(nLng - lng) < 1e-10;
      lat = nLat; lng = nLng;
      if (done) break;
    }
    return { lat: lat, lng: lng };
  }
  var gcj = cfg.tiles.datum === "gcj02";
  function toMap(p) { return gcj ? wgsToGcj(p) : p; }
  function fromMap(p) { return gcj ? gcjToWgs({ lat: p.lat, lng: p.lng }) : { lat: p.lat, lng: p.lng }; }

  // ---- EXIF GPS of a gallery photo (the canvas copy sent has no metadata) ---------------
  function exifGps(buffer) {
    try {
      var v = new DataView(buffer);
      if (v.getUint16(0) !== 0xffd8) return null;
      for (var off = 2; off + 10 < v.byteLength; off += 2 + v.getUint16(off + 2)) {
        var marker = v.getUint16(off);
        if (marker === 0xffe1 && v.getUint32(off + 4) === 0x45786966) return tiffGps(v, off + 10);
        if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) return null;
      }
    } catch (e) { /* a truncated or odd file: no location from it */ }
    return null;
  }
  function tiffGps(v, t) {
    var le = v.getUint16(t) === 0x4949;
    function u16(o) { return v.getUint16(t + o, le); }
    function u32(o) { return v.getUint32(t + o, le); }
    function entries(ifd, fn) { for (var i = 0, n = u16(ifd); i < n; i++) fn(ifd + 2 + i * 12); }
    var gps = null, tags = {};
    entries(u32(4), function (e) { if (u16(e) === 0x8825) gps = u32(e + 8); });
    if (gps === null) return null;
    entries(gps, function (e) {
      var tag = u16(e);
      if (tag === 1 || tag === 3) tags[tag] = String.fromCharCode(v.getUint8(t + e + 8));
      if ((tag === 2 || tag === 4) && u16(e + 2) === 5 && u32(e + 4) === 3) {
        var at = u32(e + 8);
        tags[tag] = [0, 1, 2].map(function (k) {
          var den = u32(at + k * 8 + 4);
          return den ? u32(at + k * 8) / den : NaN;
        });
      }
    });
    var lat = degrees(tags[2], 90), lng = degrees(tags[4], 180);
    if (lat === null || lng === null || (lat === 0 && lng === 0)) return null;
    return { lat: tags[1] === "S" ? -lat : lat, lng: tags[3] === "W" ? -lng : lng };
  }
  function degrees(dms, max) {
    if (!dms || !(dms[1] < 60 && dms[2] < 60)) return null;
    var value = dms[0] + dms[1] / 60 + dms[2] / 3600;
    return value >= 0 && value <= max ? value : null;
  }
  window.Suishou = { wgsToGcj: wgsToGcj, gcjToWgs: gcjToWgs, exifGps: exifGps };

  // ---- the map and its pin -------------------------------------------------------------
  var map = null, marker = null;
  function initMap() {
    if (!window.L) return;
    var c = toMap({ lat: cfg.centre[0], lng: cfg.centre[1] });
    map = L.map("map").setView([c.lat, c.lng], 14);
    L.tileLayer(cfg.tiles.url, {
      subdomains: cfg.tiles.subdomains, attribution: cfg.tiles.attribution, maxZoom: 19
    }).addTo(map);
    map.on("click", function (e) { setPoint(fromMap(e.latlng), "map", false); });
  }
  function setPoint(p, source, recentre) {
    state.point = p;
    state.similar = null;
    state.source = source;
    locKey = { gps: "located", map: "location_picked", exif: "location_from_photo" }[source];
    $("loc-status").textContent = tr(locKey);
    if (map) {
      var m = toMap(p);
      if (!marker) {
        marker = L.marker([m.lat, m.lng], { draggable: true }).addTo(map);
        marker.on("dragend", function () { setPoint(fromMap(marker.getLatLng()), "map", false); });
      } else {
        marker.setLatLng([m.lat, m.lng]);
      }
      if (recentre) map.setView([m.lat, m.lng], 17);
    }
    update();
  }
  function locate() {
    if (!navigator.geolocation) { noLocation(); return; }
    locKey = "locating";
    $("loc-status").textContent = tr(locKey);
    navigator.geolocation.getCurrentPosition(function (pos) {
      setPoint({ lat: pos.coords.latitude, lng: pos.coords.longitude }, "gps", true);
    }, noLocation, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
  }
  function noLocation() {
    if (state.point) return;
    locKey = "location_denied";
    $("loc-status").textContent = tr(locKey);
  }
  $("locate").addEventListener("click", locate);

  // ---- photos: at most maxPhotos, each downscaled to maxSide before upload -------------
  function addFiles(input) {
    var files = Array.prototype.slice.call(input.files || []);
    input.value = "";
    files.forEach(function (file) {
      if (state.photos.length + state.pending >= cfg.maxPhotos) return;
      state.pending++;
      prepare(file).then(function (photo) {
        state.photos.push(photo);
        if (photo.gps && !state.point) setPoint(photo.gps, "exif", true);
      }, function () {
        showError(tr("photo_unreadable"));
      }).then(function () { state.pending--; renderThumbs(); update(); });
    });
    update();
  }
  function prepare(file) {
    var gps = file.arrayBuffer ? file.slice(0, 262144).arrayBuffer().then(exifGps) : Promise.resolve(null);
    return Promise.all([gps, downscale(file)]).then(function (r) {
      return { blob: r[1], url: URL.createObjectURL(r[1]), gps: r[0] };
    });
  }
  function downscale(file) {
    return new Promise(function (resolve, reject) {
      var img = new Image(), src = URL.createObjectURL(file);
      img.onload = function () {
        URL.revokeObjectURL(src);
        var scale = Math.min(1, cfg.maxSide / Math.max(img.naturalWidth, img.naturalHeight));
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
        canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) { blob ? resolve(blob) : reject(); }, "image/jpeg", 0.85);
      };
      img.onerror = function () { URL.revokeObjectURL(src); reject(); };
      img.src = src;
    });
  }
  function renderThumbs() {
    var list = $("thumbs");
    list.textContent = "";
    state.photos.forEach(function (photo, i) {
      var li = document.createElement("li"), img = document.createElement("img");
      var remove = document.createElement("button");
      img.src = photo.url;
      img.alt = "";
      remove.type = "button";
      remove.textContent = "×";
      remove.setAttribute("aria-label", tr("remove_photo"));
      remove.addEventListener("click", function () {
        URL.revokeObjectURL(photo.url);
        state.photos.splice(i, 1);
        renderThumbs();
        update();
      });
      li.appendChild(img);
      li.appendChild(remove);
      list.appendChild(li);
    });
  }
  $("camera").addEventListener("change", function () { addFiles(this); });
  $("gallery").addEventListener("change", function () { addFiles(this); });

  // ---- category ------------------------------------------------------------------------
  document.querySelectorAll(".cat").forEach(function (button) {
    button.addEventListener("click", function () {
      state.category = button.getAttribute("data-code");
      state.similar = null;
      document.querySelectorAll(".cat").forEach(function (b) {
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
      update();
    });
  });

  // ---- submit: idempotent by key, retried through a flaky network ----------------------
  function missing() {
    var names = [];
    if (!state.photos.length) names.push(tr("missing_photo"));
    if (!state.point) names.push(tr("missing_location"));
    if (!state.category) names.push(tr("missing_category"));
    return names;
  }
  function update() {
    var names = missing();
    $("missing").textContent = names.length ? tr("missing", { missing: names.join(lang === "zh" ? "、" : ", ") }) : "";
    $("submit").disabled = state.busy || state.pending > 0 || names.length > 0;
    $("submit").hidden = !!state.similar;
    $("similar").hidden = !state.similar;
    $("join").disabled = $("not-same").disabled = state.busy;
    $("submit").textContent = tr(state.busy ? "sending" : "submit");
  }
  function showError(message) {
    $("error").textContent = message;
    $("error").hidden = !message;
  }
  $("report").addEventListener("submit", function (e) {
    e.preventDefault();
    if (!state.busy && !missing().length) send(0, {});
  });
  // ---- the same problem as an open report nearby? +1, or file it anyway ----------------
  // The answer is the same form again (same key) with join=ticket or separate=1: nothing
  // waits on the server in between, and a retried answer is still one +1 or one report.
  function renderSimilar() {
    var s = state.similar;
    $("similar-line").textContent = s ? tr("similar_line", s) : "";
  }
  $("join").addEventListener("click", function () {
    if (!state.busy && state.similar) send(0, { join: String(state.similar.ticket) });
  });
  $("not-same").addEventListener("click", function () {
    if (!state.busy && state.similar) send(0, { separate: "1" });
  });
  function send(attempt, answer) {
    state.busy = true;
    showError("");
    update();
    var form = new FormData();
    form.append("csrf", cfg.csrf);
    form.append("key", key);
    form.append("lang", lang);
    form.append("category", state.category);
    form.append("lat", state.point.lat.toFixed(7));
    form.append("lon", state.point.lng.toFixed(7));
    form.append("source", state.source);
    form.append("note", $("note").value);
    Object.keys(answer).forEach(function (name) { form.append(name, answer[name]); });
    state.photos.forEach(function (p, i) { form.append("photo", p.blob, "photo" + (i + 1) + ".jpg"); });
    fetch(cfg.submitUrl, { method: "POST", body: form, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        state.busy = false;
        if (res.ok && res.body.similar) {
          state.similar = res.body.similar;
          renderSimilar();
          update();
          $("similar").scrollIntoView({ block: "center" });
        } else if (res.ok) {
          done(res.body);
        } else {
          if (res.body.error === "form.join_stale") state.similar = null;
          showError(res.body.message);
          update();
        }
      }, function () {
        if (attempt < 3) {
          showError(tr("retrying"));
          setTimeout(function () { send(attempt + 1, answer); }, 1500 * Math.pow(2, attempt));
        } else {
          state.busy = false;
          showError(tr("network_failed"));
          update();
        }
      });
  }
  function done(body) {
    var joined = body.joined !== undefined;
    var where = { community: "done_community", supervisors: "done_supervisors", kept: "done_kept" }[body.kind];
    $("done-title").setAttribute("data-t", joined ? "joined_title" : "done_title");
    $("done-title").textContent = tr(joined ? "joined_title" : "done_title");
    $("done-ticket").textContent = tr("done_ticket", { ticket: joined ? body.joined : body.ticket });
    $("done-where").textContent = joined ? tr("joined", { ticket: body.joined }) : tr(where, body);
    state.similar = null;
    $("report").hidden = true;
    $("done").hidden = false;
    window.scrollTo(0, 0);
  }
  $("again").addEventListener("click", function () {
    state.photos.forEach(function (p) { URL.revokeObjectURL(p.url); });
    state.photos = [];
    state.category = null;
    state.similar = null;
    key = newKey();
    $("note").value = "";
    document.querySelectorAll(".cat").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
    renderThumbs();
    $("done").hidden = true;
    $("report").hidden = false;
    locate();
  });

  initMap();
  applyLanguage();
  locate();
})();
