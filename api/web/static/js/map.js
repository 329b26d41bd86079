/* Maps of the pages (Leaflet, vendored). No base tiles: nothing is fetched from other sites.
 *
 * <div class="map" data-geojson="ID" [data-context="/geo/counties.geojson"]></div>
 * with <script type="application/json" id="ID">FeatureCollection</script>.
 * Feature properties: label (tooltip), href (click opens it), kind (project, parcel, site,
 * selected, context: the style). When drawn the element gets data-ready="1" and
 * data-features="N".
 */
(function () {
  "use strict";
  var STYLES = {
    project: { color: "#1f4d33", weight: 2, fillColor: "#2f7d4a", fillOpacity: 0.45 },
    parcel: { color: "#2f7d4a", weight: 1, fillColor: "#64a86f", fillOpacity: 0.5 },
    site: { color: "#1f5f8b", weight: 2, fill: false, dashArray: "4 3" },
    selected: { color: "#a4461b", weight: 2, fillColor: "#e07b4a", fillOpacity: 0.55 },
    context: { color: "#8a9a8f", weight: 1, fill: false, interactive: false },
  };
  function style(feature) {
    var kind = (feature.properties && feature.properties.kind) || "parcel";
    return STYLES[kind] || STYLES.parcel;
  }
  function onEach(feature, layer) {
    var p = feature.properties || {};
    if (p.label) { layer.bindTooltip(String(p.label), { sticky: true }); }
    if (p.href) { layer.on("click", function () { window.location.href = p.href; }); }
  }
  function draw(el) {
    var source = document.getElementById(el.dataset.geojson);
    var data = source ? JSON.parse(source.textContent) : { type: "FeatureCollection", features: [] };
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: false });
    L.control.scale({ metric: true, imperial: false }).addTo(map);
    var layer = L.geoJSON(data, { style: style, onEachFeature: onEach }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [12, 12] }); }
    else { map.setView([30.87, 119.9], 9); }  /* Huzhou */
    el.dataset.features = String(data.features.length);
    if (el.dataset.context) {
      fetch(el.dataset.context).then(function (r) { return r.json(); }).then(function (ctx) {
        L.geoJSON(ctx, { style: function () { return STYLES.context; } }).addTo(map);
        layer.bringToFront();
        if (!bounds.isValid()) { map.fitBounds(L.geoJSON(ctx).getBounds()); }
      }).finally(function () { el.dataset.ready = "1"; });
    } else {
      el.dataset.ready = "1";
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".map[data-geojson]").forEach(draw);
  });
})();
