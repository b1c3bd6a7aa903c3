/* The study's interactive map (生活圈地图): Leaflet from the platform's own static files, the
 * study's own layers only — no tile layer, nothing from another host. Homes are coloured by the
 * smallest circle covering them for the chosen facility type (gaps red); the type select re-colours
 * them in place. Words come from the page (#map-config), in its language; data from the files
 * people uploaded is only ever set as text, never as HTML. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var T = config.text;
  var el = document.getElementById("study-map");
  var select = document.getElementById("map-type");
  var legend = document.getElementById("map-legend");
  var status = document.getElementById("map-status");
  var map = L.map(el, {preferCanvas: true, attributionControl: false, zoomSnap: 0.25});
  window.studyMap = map; // the browser test (and a curious planner's console) finds it here
  var renderer = L.canvas({padding: 0.5, tolerance: 4});
  var homes = [];
  var facilityRows = [];
  var facilityLayer = L.layerGroup().addTo(map);
  var overlays = {};
  var current = select ? select.value : config.types[0];

  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_m, key) { return values[key]; });
  }

  function number(x, digits) {
    return x === null || x === undefined ? "—" : Number(x).toFixed(digits);
  }

  function line(box, key, label, value) {
    var row = document.createElement("div");
    row.setAttribute("data-field", key);
    var k = document.createElement("span");
    k.className = "k";
    k.textContent = label;
    var v = document.createElement("span");
    v.className = "v";
    v.textContent = value === null || value === undefined ? "—" : String(value);
    row.appendChild(k);
    row.appendChild(v);
    box.appendChild(row);
  }

  function circleIndex(minutes) {
    for (var i = 0; i < config.circles.length; i++) {
      if (config.circles[i].minutes === minutes) return i;
    }
    return -1;
  }

  function colour(minutes) {
    var i = minutes === null || minutes === undefined ? -1 : circleIndex(minutes);
    if (i < 0) return config.gap;
    var k = config.circles.length > 1 ? Math.round(i * (config.palette.length - 1) / (config.circles.length - 1)) : 0;
    return config.palette[k];
  }

  function values(h) {
    return h.t[current] || [null, null, null, null];
  }

  function homePopup(h) {
    var v = values(h);
    var box = document.createElement("div");
    box.className = "map-popup";
    line(box, "id", T.home, h.id);
    line(box, "population", T.population, number(h.population, 2).replace(/\.?0+$/, ""));
    if (v[0] === null) {
      line(box, "distance", T.distance, T.unreachable);
    } else {
      line(box, "distance", T.distance, number(v[0], 2) + " " + T.metres);
      line(box, "time", T.time, number(v[1], 2) + " " + T.minutes);
      line(box, "facility", T.facility, v[2]);
    }
    line(box, "circle", T.circle, v[3] === null ? T.gap : config.circles[circleIndex(v[3])].name);
    return box;
  }

  function homeRows(fc) {
    var rows = [];
    fc.features.forEach(function (f) {
      var p = f.properties;
      if (f.geometry.type === "MultiPoint") { // many homes: the properties are arrays in point order
        f.geometry.coordinates.forEach(function (c, i) {
          var t = {};
          config.types.forEach(function (k) { if (p[k]) t[k] = p[k][i]; });
          rows.push({lon: c[0], lat: c[1], id: p.id[i], population: p.population[i], t: t});
        });
      } else {
        var t = {};
        config.types.forEach(function (k) { if (p[k]) t[k] = p[k]; });
        rows.push({lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1], id: p.id,
                   population: p.population, t: t});
      }
    });
    return rows;
  }

  function recolour() {
    homes.forEach(function (h) {
      var c = colour(values(h)[3]);
      h.marker.setStyle({fillColor: c, color: c});
    });
  }

  function drawFacilities() {
    facilityLayer.clearLayers();
    facilityRows.forEach(function (f) {
      if (f.properties.type !== current) return;
      var c = f.geometry.coordinates;
      var m = L.circleMarker([c[1], c[0]], {renderer: renderer, radius: 6, color: "#fff", weight: 1.5,
                                            fillColor: "#111", fillOpacity: 1});
      m.bindPopup(function () {
        var box = document.createElement("div");
        box.className = "map-popup";
        line(box, "facility", T.facility, f.properties.id);
        line(box, "type", T.type, f.properties.type_label);
        return box;
      });
      facilityLayer.addLayer(m);
    });
  }

  function swatch(item, fill, shape) {
    var s = document.createElement("span");
    s.className = "swatch " + (shape || "dot");
    s.style.background = fill;
    item.appendChild(s);
  }

  function drawLegend() {
    if (!legend) return;
    legend.textContent = "";
    var counts = {};
    var gaps = 0;
    homes.forEach(function (h) {
      var m = values(h)[3];
      if (m === null) gaps += 1; else counts[m] = (counts[m] || 0) + 1;
    });
    var list = document.createElement("ul");
    config.circles.forEach(function (c) {
      var item = document.createElement("li");
      swatch(item, colour(c.minutes));
      var reach = (config.reach[current] || {})[String(c.minutes)];
      item.appendChild(document.createTextNode(
        format(T.within, {m: c.minutes, r: reach === undefined ? "—" : Math.round(reach)}) + " " +
        format(T.homes_count, {n: counts[c.minutes] || 0})));
      list.appendChild(item);
    });
    var gapItem = document.createElement("li");
    swatch(gapItem, config.gap);
    gapItem.appendChild(document.createTextNode(T.gap + " " + format(T.homes_count, {n: gaps})));
    list.appendChild(gapItem);
    var fac = document.createElement("li");
    swatch(fac, "#111");
    var n = facilityRows.filter(function (f) { return f.properties.type === current; }).length;
    fac.appendChild(document.createTextNode((config.labels[current] || current) + " " + format(T.homes_count, {n: n})));
    list.appendChild(fac);
    if (overlays[T.sites]) {
      var site = document.createElement("li");
      swatch(site, "#c2185b", "diamond");
      site.appendChild(document.createTextNode(T.sites));
      list.appendChild(site);
    }
    legend.appendChild(list);
  }

  function highlightTable() {
    document.querySelectorAll("#coverage tr[data-type]").forEach(function (tr) {
      tr.classList.toggle("current", tr.getAttribute("data-type") === current);
    });
  }

  function get(name) {
    if (!config.layers[name]) return Promise.resolve(null);
    return fetch(config.layers[name], {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) throw new Error(name + " " + r.status);
      return r.json();
    });
  }

  function drawSites(fc) {
    var group = L.layerGroup();
    fc.features.forEach(function (f) {
      var c = f.geometry.coordinates;
      var p = f.properties;
      var icon = L.divIcon({className: "site-icon", iconSize: [26, 26], iconAnchor: [13, 13],
                            html: "<span class=\"diamond\"><b>" + Number(p.rank) + "</b></span>"});
      var m = L.marker([c[1], c[0]], {icon: icon, keyboard: false, zIndexOffset: 1000});
      m.bindPopup(function () {
        var box = document.createElement("div");
        box.className = "map-popup";
        line(box, "site", T.site, p.site_id);
        line(box, "rank", T.rank, p.rank);
        line(box, "new_population", T.new_population, number(p.new_population_covered, 2));
        return box;
      });
      group.addLayer(m);
    });
    return group;
  }

  status.textContent = T.loading;
  Promise.all([get("roads"), get("areas"), get("homes"), get("facilities"), get("sites")]).then(function (layers) {
    var roads = layers[0], areas = layers[1], homeData = layers[2], facilities = layers[3], sites = layers[4];
    var rows = homeRows(homeData);
    var bounds = L.latLngBounds([]);
    rows.forEach(function (h) { bounds.extend([h.lat, h.lon]); });
    // the view first: canvas layers need the map's size and zoom when they are added
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.05)); else map.setView([0, 0], 2);
    if (roads) {
      overlays[T.roads] = L.geoJSON(roads, {renderer: renderer, interactive: false,
                                            style: {color: "#8c96a0", weight: 1, opacity: 0.8}}).addTo(map);
    }
    if (areas) {
      overlays[T.areas] = L.geoJSON(areas, {renderer: renderer, interactive: false,
                                            style: {color: "#17406d", weight: 1.5, dashArray: "4 3", fill: false}})
        .addTo(map);
    }
    rows.forEach(function (h) {
      h.marker = L.circleMarker([h.lat, h.lon], {renderer: renderer, radius: 4, weight: 1, fillOpacity: 0.85});
      h.marker.bindPopup(function () { return homePopup(h); });
      h.marker.addTo(map);
      homes.push(h);
    });
    facilityRows = facilities ? facilities.features : [];
    overlays[T.facilities] = facilityLayer;
    if (sites) overlays[T.sites] = drawSites(sites).addTo(map);
    L.control.layers(null, overlays, {collapsed: true}).addTo(map);
    L.control.scale({imperial: false}).addTo(map);
    recolour();
    drawFacilities();
    drawLegend();
    highlightTable();
    status.textContent = "";
    el.setAttribute("data-ready", "1");
  }).catch(function (err) {
    status.textContent = T.failed + err.message;
  });

  if (select) {
    select.addEventListener("change", function () {
      current = select.value;
      map.closePopup();
      recolour();
      drawFacilities();
      drawLegend();
      highlightTable();
      el.setAttribute("data-type", current);
    });
  }
})();
