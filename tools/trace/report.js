/*
 * report.js -- draws the charts of a tricolor-trace html page from the JSON
 * in <script id="trace-data"> (written by tr_html.c; times in ns, sizes in
 * bytes).  No libraries and no network: SVG built with the DOM.  When it
 * is done, the body's data-rendered attribute becomes ok; an exception
 * shows in #error and makes it error (the Chromium test looks for both).
 */
window.addEventListener('error', function (ev) {
  var box = document.getElementById('error');
  box.hidden = false;
  box.textContent = 'The page failed to draw: ' + ev.message;
  document.body.setAttribute('data-rendered', 'error');
});

(function () {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';
  var W = 960, H = 270, M = { l: 76, r: 20, t: 24, b: 40 };
  var data = JSON.parse(document.getElementById('trace-data').textContent);

  function node(tag, attrs, parent, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  function fmtBytes(b) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    var i = 0;
    while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
    return (i ? +b.toFixed(1) : Math.round(b)) + ' ' + units[i];
  }

  function fmtTime(ns) {
    if (ns < 1e3) return ns.toFixed(0) + ' ns';
    if (ns < 1e6) return +(ns / 1e3).toPrecision(3) + ' us';
    if (ns < 1e9) return +(ns / 1e6).toPrecision(4) + ' ms';
    return +(ns / 1e9).toPrecision(4) + ' s';
  }

  /* Round steps for a linear axis over [lo, hi], about n of them. */
  function linearTicks(lo, hi, n) {
    var span = hi - lo;
    if (!(span > 0)) return [lo];
    var step = Math.pow(10, Math.floor(Math.log10(span / n)));
    var ratio = span / n / step;
    if (ratio >= 7.5) step *= 10; else if (ratio >= 3.5) step *= 5; else if (ratio >= 1.5) step *= 2;
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
    return out;
  }

  /* Round steps in the binary unit that fits hi (KiB, MiB, ...). */
  function byteTicks(hi, n) {
    var unit = 1;
    while (hi / unit >= 1024 * 1.5) unit *= 1024;
    return linearTicks(0, hi / unit, n).map(function (v) { return v * unit; });
  }

  /* Time axis unit for the whole trace. */
  var timeUnit = data.end >= 2e9 ? { ns: 1e9, name: 's' } : data.end >= 2e6 ? { ns: 1e6, name: 'ms' } : { ns: 1e3, name: 'us' };

  /*
   * An empty chart in figure#id: axes, grid and labels.  xs and ys are
   * {lo, hi, log, fmt}; returns the svg, the plot group and the scales.
   */
  function frame(id, xs, ys, xlabel, ylabel) {
    var fig = document.getElementById(id);
    var svg = node('svg', { 'class': 'chart', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': ylabel });
    fig.insertBefore(svg, fig.firstChild);
    var pw = W - M.l - M.r, ph = H - M.t - M.b;
    function scale(s, len, flip) {
      if (s.log) {
        var a = Math.log10(s.lo), b = Math.log10(s.hi);
        return function (v) { var f = (Math.log10(v) - a) / (b - a || 1); return flip ? len - f * len : f * len; };
      }
      return function (v) { var f = (v - s.lo) / (s.hi - s.lo || 1); return flip ? len - f * len : f * len; };
    }
    var x = scale(xs, pw, false), y = scale(ys, ph, true);
    var root = node('g', { transform: 'translate(' + M.l + ',' + M.t + ')' }, svg);
    var grid = node('g', { 'class': 'grid' }, root);
    var axis = node('g', { 'class': 'axis' }, root);
    var xt = xs.ticks || linearTicks(xs.lo, xs.hi, 8);
    xt.forEach(function (v) {
      var px = x(v);
      node('line', { x1: px, x2: px, y1: ph, y2: ph + 5 }, axis);
      node('text', { x: px, y: ph + 18, 'text-anchor': 'middle' }, axis, xs.fmt(v));
    });
    var yt = ys.ticks || linearTicks(ys.lo, ys.hi, 5);
    yt.forEach(function (v) {
      var py = y(v);
      node('line', { x1: 0, x2: pw, y1: py, y2: py }, grid);
      node('text', { x: -8, y: py + 4, 'text-anchor': 'end' }, axis, ys.fmt(v));
    });
    node('line', { x1: 0, x2: pw, y1: ph, y2: ph }, axis);
    node('line', { x1: 0, x2: 0, y1: 0, y2: ph }, axis);
    node('text', { x: pw / 2, y: ph + 34, 'text-anchor': 'middle' }, axis, xlabel);
    node('text', { transform: 'translate(' + (-M.l + 14) + ',' + ph / 2 + ') rotate(-90)', 'text-anchor': 'middle' }, axis, ylabel);
    var plot = node('g', { 'class': 'plot' }, root);
    return { svg: svg, root: root, plot: plot, x: x, y: y, pw: pw, ph: ph };
  }

  /* A readout that follows the pointer: text(v) for the x value under it. */
  function readout(f, invert, text) {
    var cursor = node('line', { 'class': 'cursor', y1: 0, y2: f.ph, visibility: 'hidden' }, f.root);
    var label = node('text', { 'class': 'readout', x: 8, y: 12 }, f.root);
    f.svg.addEventListener('mousemove', function (ev) {
      var box = f.svg.getBoundingClientRect();
      var px = (ev.clientX - box.left) * W / box.width - M.l;
      if (px < 0 || px > f.pw) { cursor.setAttribute('visibility', 'hidden'); label.textContent = ''; return; }
      cursor.setAttribute('x1', px);
      cursor.setAttribute('x2', px);
      cursor.setAttribute('visibility', 'visible');
      label.textContent = text(invert(px));
    });
  }

  /* The last point at or before t in [[t, v], ...], or null. */
  function valueAt(points, t) {
    var lo = 0, hi = points.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (points[mid][0] <= t) lo = mid + 1; else hi = mid; }
    return lo ? points[lo - 1][1] : null;
  }

  function stepPath(points, f, end) {
    if (!points.length) return '';
    var d = 'M' + f.x(points[0][0]).toFixed(1) + ',' + f.y(points[0][1]).toFixed(1);
    for (var i = 1; i < points.length; i++)
      d += 'H' + f.x(points[i][0]).toFixed(1) + 'V' + f.y(points[i][1]).toFixed(1);
    return d + 'H' + f.x(end).toFixed(1);
  }

  /* A row of swatches above the plot's right end. */
  function legend(f, items) {
    var g = node('g', { 'class': 'legend' }, f.root);
    var x = f.pw;
    for (var i = items.length - 1; i >= 0; i--) {
      var label = node('text', { y: -6, 'text-anchor': 'end' }, g, items[i].label);
      label.setAttribute('x', x);
      x -= items[i].label.length * 6.2 + 6;
      node('rect', { x: x - 14, y: -12, width: 14, height: 5, style: 'fill:' + items[i].color }, g);
      x -= 28;
    }
  }

  var timeAxis = { lo: 0, hi: Math.max(data.end, 1), fmt: function (v) { return +(v / timeUnit.ns).toPrecision(6); } };
  var timeLabel = 'time since the trace started (' + timeUnit.name + ')';

  function drawHeap() {
    var max = 1;
    data.heap.forEach(function (p) { if (p[1] > max) max = p[1]; });
    data.goal.forEach(function (p) { if (p[1] > max) max = p[1]; });
    var f = frame('heap', timeAxis, { lo: 0, hi: max * 1.08, ticks: byteTicks(max * 1.08, 5), fmt: fmtBytes },
                  timeLabel, 'bytes');
    data.cycles.forEach(function (c) {
      var r = node('rect', { 'class': 'cycle', x: f.x(c[0]), y: 0, width: Math.max(1, f.x(c[1]) - f.x(c[0])), height: f.ph }, f.plot);
      node('title', {}, r, 'GC ' + c[2] + (c[3] ? ' (forced)' : '') + ': ' + fmtTime(c[0]) + ' to ' + fmtTime(c[1]));
    });
    node('path', { 'class': 'heap-goal', d: stepPath(data.goal, f, data.end) }, f.plot);
    node('path', { 'class': 'heap-alloc', d: stepPath(data.heap, f, data.end) }, f.plot);
    legend(f, [{ label: 'allocated', color: 'var(--heap)' }, { label: 'goal', color: 'var(--goal)' },
               { label: 'GC cycle', color: 'rgba(47,111,222,.25)' }]);
    readout(f, function (px) { return px / f.pw * timeAxis.hi; }, function (t) {
      var a = valueAt(data.heap, t), g = valueAt(data.goal, t);
      return fmtTime(t) + ':  allocated ' + (a === null ? '-' : fmtBytes(a)) + ',  goal ' + (g === null ? '-' : fmtBytes(g));
    });
  }

  function drawPauses() {
    var max = 0;
    data.pauses.forEach(function (p) { if (p[1] > max) max = p[1]; });
    var yMax = Math.max(max * 1.1, 1000);
    var f = frame('pauses', timeAxis, { lo: 0, hi: yMax, fmt: function (v) { return +(v / 1e6).toPrecision(3) + ' ms'; } },
                  timeLabel, 'pause');
    data.pauses.forEach(function (p) {
      var x0 = f.x(p[0]), w = Math.max(2, f.x(p[0] + p[1]) - x0), y0 = f.y(p[1]);
      var r = node('rect', { 'class': 'pause', x: x0, y: y0, width: w, height: Math.max(1, f.ph - y0) }, f.plot);
      node('title', {}, r, (p[2] ? 'STW ' + p[2] : 'stop-the-world') + ': ' + fmtTime(p[1]) + ' at ' + fmtTime(p[0]));
    });
    if (data.pauses.length) {
      var py = f.y(data.p99);
      node('line', { 'class': 'pause-p99', x1: 0, x2: f.pw, y1: py, y2: py }, f.plot);
      node('text', { x: f.pw - 4, y: py - 4, 'text-anchor': 'end' }, f.plot, 'p99 ' + fmtTime(data.p99));
    }
  }

  function drawMMU() {
    var pts = data.mmu;
    var lo = pts.length ? pts[0][0] : 1e5, hi = pts.length ? pts[pts.length - 1][0] : 1e9;
    if (hi <= lo) hi = lo * 10;
    var decades = [];
    for (var v = Math.pow(10, Math.ceil(Math.log10(lo))); v <= hi * 1.0001; v *= 10) decades.push(v);
    var f = frame('mmu', { lo: lo, hi: hi, log: true, ticks: decades, fmt: fmtTime },
                  { lo: 0, hi: 1, fmt: function (v) { return Math.round(v * 100) + '%'; } },
                  'window (log scale)', 'mutator utilization');
    var d = '';
    pts.forEach(function (p, i) { d += (i ? 'L' : 'M') + f.x(p[0]).toFixed(1) + ',' + f.y(p[1]).toFixed(1); });
    node('path', { 'class': 'mmu-line', d: d }, f.plot);
    pts.forEach(function (p) {
      var c = node('circle', { 'class': 'mmu-point', cx: f.x(p[0]), cy: f.y(p[1]), r: 2.2 }, f.plot);
      node('title', {}, c, fmtTime(p[0]) + ' window: ' + (p[1] * 100).toFixed(1) + '%');
    });
    data.marks.forEach(function (p) {
      if (p[0] < lo || p[0] > hi) return;
      var c = node('circle', { 'class': 'mmu-mark', cx: f.x(p[0]), cy: f.y(p[1]), r: 4.5 }, f.plot);
      node('title', {}, c, fmtTime(p[0]) + ' window: ' + (p[1] * 100).toFixed(1) + '%');
      var ly = f.y(p[1]) > f.ph - 20 ? f.y(p[1]) - 8 : f.y(p[1]) + 14; /* above the axis, not on it */
      node('text', { x: f.x(p[0]) + 6, y: ly }, f.plot, fmtTime(p[0]) + ': ' + (p[1] * 100).toFixed(1) + '%');
    });
    readout(f, function (px) { return Math.pow(10, Math.log10(lo) + px / f.pw * (Math.log10(hi) - Math.log10(lo))); },
            function (w) {
              var best = null;
              pts.forEach(function (p) { if (best === null || Math.abs(Math.log(p[0] / w)) < Math.abs(Math.log(best[0] / w))) best = p; });
              return best ? fmtTime(best[0]) + ' window: ' + (best[1] * 100).toFixed(1) + '% mutator' : '';
            });
  }

  drawHeap();
  drawPauses();
  drawMMU();
  if (document.body.getAttribute('data-rendered') !== 'error')
    document.body.setAttribute('data-rendered', 'ok');
})();
