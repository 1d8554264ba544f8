// The search page's map on real tiles: Leaflet (served from /assets) puts the server-drawn
// map's markers at their coordinates. The server's SVG stays when there is no Leaflet, or when
// the tile server answers nothing; the numbered list is the accessible equivalent either way.
(function () {
  'use strict';
  var box = document.querySelector('.map-box[data-map-tiles]');
  if (!box || !window.L) return;
  var svg = box.querySelector('svg');
  var centre = L.latLng(Number(box.dataset.lat), Number(box.dataset.lon));
  var radiusMetres = Number(box.dataset.radiusMiles) * 1609.344;

  var canvas = document.createElement('div');
  canvas.className = 'map-canvas';
  canvas.setAttribute('role', 'region');
  canvas.setAttribute('aria-label', 'Map of the results (a visual aid: the list below has the same services)');
  box.insertBefore(canvas, svg);
  box.classList.add('map-live');

  var map = L.map(canvas, { keyboard: false, scrollWheelZoom: false });
  map.attributionControl.setPrefix(false);
  // Leaflet writes attributions as HTML; ours is text.
  var text = document.createElement('span');
  text.textContent = box.dataset.mapAttribution;
  map.attributionControl.addAttribution(text.innerHTML);

  var tiles = L.tileLayer(box.dataset.mapTiles, { maxZoom: 19 });
  var loaded = false;
  tiles.on('tileload', function () {
    loaded = true;
  });
  tiles.on('tileerror', function () {
    if (loaded) return;
    // No tile at all: back to the drawing, which needs none.
    map.remove();
    canvas.remove();
    box.classList.remove('map-live');
  });

  var bounds = centre.toBounds(2 * radiusMetres);
  L.circle(centre, { radius: radiusMetres, color: '#505a5f', weight: 1, dashArray: '4 4', fill: false, interactive: false }).addTo(map);
  L.marker(centre, {
    icon: L.divIcon({ className: 'map-you', html: 'You', iconSize: [36, 24] }),
    keyboard: false,
    interactive: false,
    zIndexOffset: 1000,
  }).addTo(map);
  Array.prototype.forEach.call(svg.querySelectorAll('a[data-lat]'), function (link) {
    var at = L.latLng(Number(link.dataset.lat), Number(link.dataset.lon));
    var label = document.createElement('span');
    label.textContent = link.dataset.n;
    var marker = L.marker(at, {
      icon: L.divIcon({ className: 'map-pin', html: label.outerHTML, iconSize: [24, 24] }),
      keyboard: false,
      title: link.dataset.n + '. ' + link.dataset.name,
    });
    marker.on('click', function () {
      window.location.assign(link.getAttribute('href'));
    });
    marker.addTo(map);
    bounds.extend(at);
  });
  tiles.addTo(map);
  map.fitBounds(bounds, { padding: [16, 16] });
})();
