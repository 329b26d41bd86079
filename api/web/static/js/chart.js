/* Time-series charts of the pages (uPlot, vendored).
 *
 * <div class="chart" data-series="ID" data-y-label="¥/t"></div>
 * with <script type="application/json" id="ID">{"x": [unix seconds…],
 *   "series": [{"label": "…", "values": [number|null…]}]}</script>.
 * When drawn the element gets data-ready="1" and data-points="N".
 */
(function () {
  "use strict";
  var COLOURS = ["#2f7d4a", "#1f5f8b", "#a4461b", "#7a5aa6"];
  var PAD_S = 15 * 86400;  /* a lone day is shown with a fortnight either side */
  function xRange(u, min, max) {
    return min === max ? [min - PAD_S, max + PAD_S] : [min, max];
  }
  function draw(el) {
    var data = JSON.parse(document.getElementById(el.dataset.series).textContent);
    var series = [{}];
    var columns = [data.x];
    data.series.forEach(function (s, i) {
      series.push({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2,
                    points: { show: true, size: 6 }, spanGaps: true });
      columns.push(s.values);
    });
    var width = Math.max(320, el.clientWidth - 16);
    new uPlot({
      width: width, height: 280, series: series,
      axes: [{}, { label: el.dataset.yLabel || "", size: 70 }],
      scales: { x: { time: true, range: xRange } },
    }, columns, el);
    el.dataset.points = String(data.x.length);
    el.dataset.ready = "1";
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".chart[data-series]").forEach(draw);
  });
})();
