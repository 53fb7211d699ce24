// The map page: markers from /map/points.json; tiles only when a tile server is configured.
(function () {
  var box = document.getElementById("map");
  function text(value) { var span = document.createElement("span"); span.textContent = value; return span; }  // never HTML
  var map = L.map(box, { preferCanvas: true });
  var tiles = box.getAttribute("data-tiles");
  if (tiles) { L.tileLayer(tiles, { attribution: box.getAttribute("data-attribution") || "", maxZoom: 18 }).addTo(map); }
  var colours = { compliant: "#2e7d32", rectifying: "#c62828", pending_closure: "#c62828", closed: "#555", unchecked: "#999" };
  fetch("/map/points.json", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
    var bounds = [];
    data.units.forEach(function (u) {
      L.circleMarker([u.lat, u.lng], { radius: 6, color: colours[u.status] || "#999", fillOpacity: 0.8 })
        .bindPopup(text(u.name)).addTo(map);
      bounds.push([u.lat, u.lng]);
    });
    data.reports.forEach(function (r) {
      L.rectangle([[r.lat - 0.0002, r.lng - 0.0002], [r.lat + 0.0002, r.lng + 0.0002]], { color: r.ok ? "#2e7d32" : "#c62828" }).addTo(map);
      bounds.push([r.lat, r.lng]);
    });
    data.complaints.forEach(function (c) {
      L.circleMarker([c.lat, c.lng], { radius: 5, color: "#ef6c00", fillOpacity: 0.8 }).bindPopup(text(c.number)).addTo(map);
      bounds.push([c.lat, c.lng]);
    });
    document.getElementById("map-count").textContent = "单位 " + data.units.length + " 个，检查 " + data.reports.length + " 次，投诉 " + data.complaints.length + " 件。";
    if (bounds.length) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16 }); } else { map.setView([28.15, 120.69], 10); }
    box.setAttribute("data-ready", "1");
  });
})();
