// snowmcp charts: an MCP Apps view (SEP-1865, protocol 2026-01-26) drawing analytics results as SVG.
// It speaks JSON-RPC 2.0 over postMessage with its host: ui/initialize, then ui/notifications/initialized;
// the host sends ui/notifications/tool-input and ui/notifications/tool-result (a CallToolResult whose
// structuredContent is drawn). No library, nothing loaded from the network.
(function () {
  "use strict";

  var PROTOCOL_VERSION = "2026-01-26";
  var SVG = "http://www.w3.org/2000/svg";
  var root = document.getElementById("chart");
  var state = { hostContext: {}, hostCapabilities: {}, input: null, result: null };
  var nextId = 1;
  var pending = {};

  // -- the protocol --------------------------------------------------------------------------

  function post(message) { window.parent.postMessage(message, "*"); }

  function request(method, params) {
    var id = nextId++;
    post({ jsonrpc: "2.0", id: id, method: method, params: params });
    return new Promise(function (resolve, reject) { pending[id] = { resolve: resolve, reject: reject }; });
  }

  function notify(method, params) { post({ jsonrpc: "2.0", method: method, params: params || {} }); }

  function answer(id, result) { post({ jsonrpc: "2.0", id: id, result: result }); }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent) return;  // only the host speaks to this view
    var message = event.data;
    if (!message || message.jsonrpc !== "2.0") return;
    if (message.method === undefined && message.id !== undefined) {  // a response to one of our requests
      var waiting = pending[message.id];
      if (!waiting) return;
      delete pending[message.id];
      if (message.error) waiting.reject(new Error(message.error.message || "request failed"));
      else waiting.resolve(message.result || {});
    } else if (message.id !== undefined) {  // a request from the host
      if (message.method === "ui/resource-teardown" || message.method === "ping") answer(message.id, {});
      else post({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "Method not found" } });
    } else {
      onNotification(message.method, message.params || {});
    }
  });

  function onNotification(method, params) {
    if (method === "ui/notifications/tool-input") {
      state.input = params.arguments || {};
    } else if (method === "ui/notifications/tool-result") {
      state.result = params;
      draw();
    } else if (method === "ui/notifications/tool-cancelled") {
      status("The tool call was cancelled" + (params.reason ? ": " + params.reason : "."), "status");
    } else if (method === "ui/notifications/host-context-changed") {
      for (var key in params) state.hostContext[key] = params[key];
      applyTheme();
      if (state.result) draw();
    }
  }

  function start() {
    request("ui/initialize", {
      protocolVersion: PROTOCOL_VERSION,
      appInfo: { name: "snowmcp-charts", version: "1" },
      appCapabilities: { availableDisplayModes: ["inline"] }
    }).then(function (result) {
      state.hostContext = result.hostContext || {};
      state.hostCapabilities = result.hostCapabilities || {};
      applyTheme();
      notify("ui/notifications/initialized");
      watchSize();
    }, function (error) { status("The host refused to initialize: " + error.message, "error"); });
  }

  function applyTheme() {
    var context = state.hostContext;
    if (context.theme === "light" || context.theme === "dark") document.documentElement.style.colorScheme = context.theme;
    var variables = (context.styles && context.styles.variables) || {};
    for (var name in variables) if (variables[name]) document.documentElement.style.setProperty(name, variables[name]);
  }

  function watchSize() {
    var last = "";
    function report() {
      var box = document.body.getBoundingClientRect();  // the content's own size, not the viewport's
      var size = { width: Math.ceil(box.width), height: Math.ceil(box.height) };
      var key = size.width + "x" + size.height;
      if (key !== last) { last = key; notify("ui/notifications/size-changed", size); }
    }
    if (window.ResizeObserver) new ResizeObserver(report).observe(document.body);
    report();
  }

  // -- which chart ---------------------------------------------------------------------------

  function toolName() {
    var info = state.hostContext.toolInfo;
    return info && info.tool && info.tool.name ? String(info.tool.name).split("__").pop() : null;
  }

  function kindOf(data) {
    var named = toolName();
    if (named && DRAW[named]) return named;
    if (Array.isArray(data.points)) return "time_series";
    if (Array.isArray(data.anomalies)) return "detect_anomalies";
    if (Array.isArray(data.bins)) return "histogram";
    if (data.current && data.previous && Array.isArray(data.contributors)) return "compare_periods";
    if (Array.isArray(data.columns) && typeof data.row_count === "number") return "profile_table";
    return null;
  }

  function draw() {
    var result = state.result;
    root.textContent = "";
    if (result.isError) {
      var text = (result.content || []).filter(function (b) { return b.type === "text"; }).map(function (b) { return b.text; });
      return status("The tool failed: " + (text.join(" ") || "no message"), "error");
    }
    var data = result.structuredContent;
    if (!data && result.content) {  // a host that passes only the text block: it is the same JSON
      try { data = JSON.parse(result.content[0].text); } catch (e) { data = null; }
    }
    if (!data || typeof data !== "object") return status("The result carries no data to draw.", "status");
    if (data.status === "running") return status("The query is still running; its result will be drawn when it is fetched.", "status");
    var kind = kindOf(data);
    if (!kind) return status("This result has no chart.", "status");
    DRAW[kind](data);
    document.documentElement.setAttribute("data-chart", kind);
  }

  // -- drawing helpers -----------------------------------------------------------------------

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    for (var key in attrs) if (attrs[key] !== undefined && attrs[key] !== null) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function html(tag, text, cls, parent) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    if (cls) node.className = cls;
    (parent || root).appendChild(node);
    return node;
  }

  function status(text, cls) { root.textContent = ""; html("p", text, cls); }

  function tip(node, text) { el("title", {}, node).textContent = text; return node; }

  function header(title, subtitle) { html("h1", title); if (subtitle) html("p", subtitle, "subtitle"); }

  function num(value) { return typeof value === "number" && isFinite(value) ? value : (typeof value === "string" && value !== "" && isFinite(+value) ? +value : null); }

  function fmt(value) {
    if (value === null || value === undefined) return "n/a";
    if (typeof value !== "number") return String(value);
    if (value === 0) return "0";  // -0 too
    var abs = Math.abs(value);
    if (abs >= 1e9) return trim(value / 1e9) + "B";
    if (abs >= 1e6) return trim(value / 1e6) + "M";
    if (abs < 1e-3) return value.toExponential(2);
    return (Math.round(value * 1000) / 1000).toLocaleString("en-US");
  }

  function trim(value) { return String(Math.round(value * 100) / 100);
  }

  function width() { return Math.max(320, Math.min(1100, (root.clientWidth || 720) - 8)); }

  function linear(domain, range) {
    var lo = domain[0], hi = domain[1];
    if (lo === hi) { lo -= 1; hi += 1; }
    var scale = function (v) { return range[0] + (v - lo) / (hi - lo) * (range[1] - range[0]); };
    scale.ticks = function (count) {
      var step = Math.pow(10, Math.floor(Math.log10((hi - lo) / count)));
      var err = (hi - lo) / count / step;
      step *= err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1;
      var ticks = [];
      for (var t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.round(t / step) * step);
      return ticks;
    };
    return scale;
  }

  function extent(values) {
    var lo = Infinity, hi = -Infinity;
    values.forEach(function (v) { if (v !== null) { if (v < lo) lo = v; if (v > hi) hi = v; } });
    return lo === Infinity ? [0, 1] : [lo, hi];
  }

  function pad(domain, zero) {
    var lo = zero ? Math.min(0, domain[0]) : domain[0], hi = zero ? Math.max(0, domain[1]) : domain[1];
    var margin = (hi - lo || Math.abs(hi) || 1) * 0.05;
    return [zero && lo === 0 ? 0 : lo - margin, hi + margin];
  }

  function frame(w, h, m) {
    var svg = el("svg", { width: w, height: h, viewBox: "0 0 " + w + " " + h, role: "img" });
    root.appendChild(svg);
    return { svg: svg, x0: m.left, x1: w - m.right, y0: h - m.bottom, y1: m.top };
  }

  function yAxis(f, y, label) {
    var axis = el("g", { "class": "axis y" }, f.svg);
    y.ticks(5).forEach(function (t) {
      el("line", { x1: f.x0, x2: f.x1, y1: y(t), y2: y(t), "class": "grid" }, axis);
      el("text", { x: f.x0 - 6, y: y(t) + 4, "text-anchor": "end" }, axis).textContent = fmt(t);
    });
    if (label) el("text", { x: f.x0, y: f.y1 - 8 }, axis).textContent = label;
  }

  function xAxisNumbers(f, x) {
    var axis = el("g", { "class": "axis x" }, f.svg);
    el("line", { x1: f.x0, x2: f.x1, y1: f.y0, y2: f.y0 }, axis);
    x.ticks(6).forEach(function (t) {
      el("text", { x: x(t), y: f.y0 + 16, "text-anchor": "middle" }, axis).textContent = fmt(t);
    });
  }

  function xAxisTimes(f, x, times) {
    var axis = el("g", { "class": "axis x" }, f.svg);
    el("line", { x1: f.x0, x2: f.x1, y1: f.y0, y2: f.y0 }, axis);
    var count = Math.min(6, times.length);
    for (var i = 0; i < count; i++) {
      var t = times[Math.round(i * (times.length - 1) / Math.max(1, count - 1))];
      var anchor = count > 1 && i === 0 ? "start" : count > 1 && i === count - 1 ? "end" : "middle";
      el("text", { x: x(t.ms), y: f.y0 + 16, "text-anchor": anchor }, axis).textContent = shortTime(t.text);
    }
  }

  function shortTime(text) {
    var s = String(text);
    return /T00:00:00/.test(s) || s.length <= 10 ? s.slice(0, 10) : s.slice(0, 16).replace("T", " ");
  }

  function time(text) { var ms = Date.parse(text); return isNaN(ms) ? null : { ms: ms, text: text }; }

  // -- the charts ----------------------------------------------------------------------------

  function lineChart(f, points, y) {  // points: [{ms, value, text}] with a value; gaps break the line
    var path = "", pen = false, x = f.x;
    points.forEach(function (p) {
      if (p.value === null) { pen = false; return; }
      path += (pen ? "L" : "M") + x(p.ms).toFixed(1) + "," + y(p.value).toFixed(1);
      pen = true;
    });
    if (path) el("path", { d: path, "class": "mark line" }, f.svg);
  }

  function timeSeries(data) {
    var points = (data.points || []).map(function (p) {
      var t = time(p.time); return t && { ms: t.ms, text: p.time, value: num(p.value) };
    }).filter(Boolean);
    header(data.metric + " per " + data.grain, data.table + " \u00b7 " + points.length + " buckets" +
      (data.truncated && data.left_out ? " \u00b7 " + data.left_out.count + " older buckets left out" : ""));
    if (!points.length) return html("p", "No buckets in this range.", "status");
    var w = width(), f = frame(w, 320, { left: 56, right: 16, top: 20, bottom: 28 });
    f.x = linear(extent(points.map(function (p) { return p.ms; })), [f.x0, f.x1]);
    var y = linear(pad(extent(points.map(function (p) { return p.value; })), true), [f.y0, f.y1]);
    yAxis(f, y, data.metric); xAxisTimes(f, f.x, points);
    lineChart(f, points, y);
    points.forEach(function (p) {
      if (p.value === null) return;
      tip(el("circle", { cx: f.x(p.ms), cy: y(p.value), r: points.length > 200 ? 1.5 : 3, "class": "mark point",
        "data-time": p.text, "data-value": p.value }, f.svg), shortTime(p.text) + ": " + fmt(p.value));
    });
  }

  function anomalies(data) {
    var marks = (data.anomalies || []).map(function (a) {
      var t = time(a.time); return t && { ms: t.ms, text: a.time, value: num(a.value), expected: num(a.expected), a: a };
    }).filter(function (m) { return m && m.value !== null; });
    var total = data.anomalies_total || 0;
    header(total + (total === 1 ? " anomaly" : " anomalies") + " in " + data.metric + " per " + data.grain,
      data.table + " \u00b7 " + data.method + ", |score| \u2265 " + data.sensitivity + " \u00b7 " + data.points_scored +
      " of " + data.buckets_total + " buckets scored");
    var series = state.series || [];
    if (!marks.length && !series.length) return html("p", "No anomalies found.", "status");
    var w = width(), f = frame(w, 320, { left: 56, right: 16, top: 20, bottom: 28 });
    var all = marks.concat(series);
    f.x = linear(extent(all.map(function (p) { return p.ms; })), [f.x0, f.x1]);
    var ys = all.map(function (p) { return p.value; }).concat(marks.map(function (m) { return m.expected; }));
    var y = linear(pad(extent(ys), false), [f.y0, f.y1]);
    yAxis(f, y, data.metric); xAxisTimes(f, f.x, all.slice().sort(function (a, b) { return a.ms - b.ms; }));
    if (series.length) lineChart(f, series, y);
    marks.forEach(function (m) {
      var x = f.x(m.ms);
      if (m.expected !== null) {
        el("line", { x1: x, x2: x, y1: y(m.expected), y2: y(m.value), "class": "mark whisker" }, f.svg);
        el("line", { x1: x - 6, x2: x + 6, y1: y(m.expected), y2: y(m.expected), "class": "mark expected" }, f.svg);
      }
      tip(el("circle", { cx: x, cy: y(m.value), r: 5, "class": "mark anomaly " + (m.a.direction === "up" ? "up" : "down"),
        "data-time": m.text, "data-value": m.value }, f.svg),
        shortTime(m.text) + ": " + fmt(m.value) + " (expected " + fmt(m.expected) + ", score " + fmt(m.a.score) + ")");
    });
    if (!series.length) html("p", "Dots: anomalous buckets; ticks: their expected values.", "note");
  }

  function histogram(data) {
    var bins = data.bins || [];
    header(data.column + ": distribution", data.table + " \u00b7 " + fmt(data.count) + " values, " + fmt(data.nulls) +
      " nulls" + (data.non_finite ? ", " + fmt(data.non_finite) + " NaN/infinite" : ""));
    if (!bins.length) return html("p", "No values to bin.", "status");
    var w = width(), f = frame(w, 300, { left: 56, right: 16, top: 20, bottom: 28 });
    var x = linear([bins[0].low, bins[bins.length - 1].high], [f.x0, f.x1]);
    var y = linear(pad([0, Math.max.apply(null, bins.map(function (b) { return b.count; }))], true), [f.y0, f.y1]);
    yAxis(f, y, "rows"); xAxisNumbers(f, x);
    bins.forEach(function (b) {
      var left = x(b.low), right = x(b.high), top = y(b.count);
      tip(el("rect", { x: left + 0.5, y: top, width: Math.max(1, right - left - 1), height: f.y0 - top, "class": "mark bar",
        "data-count": b.count }, f.svg), "[" + fmt(b.low) + ", " + fmt(b.high) + "): " + fmt(b.count));
    });
  }

  function hbars(rows, options) {  // rows: [{label, value, cls}]: horizontal bars from zero
    var w = width(), rowHeight = 22, labelWidth = Math.min(260, Math.max(80, Math.max.apply(null, rows.map(function (r) { return r.label.length; })) * 7));
    var f = frame(w, rows.length * rowHeight + 32, { left: labelWidth + 8, right: 56, top: 4, bottom: 28 });
    var x = linear(pad(extent(rows.map(function (r) { return r.value; })), true), [f.x0, f.x1]);
    xAxisNumbers(f, x);
    rows.forEach(function (r, i) {
      var top = f.y1 + i * rowHeight + 3, zero = x(0), end = x(r.value === null ? 0 : r.value);
      el("text", { x: f.x0 - 8, y: top + 12, "text-anchor": "end" }, f.svg).textContent = r.label;
      tip(el("rect", { x: Math.min(zero, end), y: top, width: Math.max(1, Math.abs(end - zero)), height: rowHeight - 6,
        "class": "mark bar " + (r.cls || ""), "data-value": r.value }, f.svg), r.label + ": " + fmt(r.value));
      el("text", { x: Math.max(zero, end) + 4, y: top + 12 }, f.svg).textContent = options && options.signed && r.value > 0 ? "+" + fmt(r.value) : fmt(r.value);
    });
  }

  function comparePeriods(data) {
    var change = data.change_percent === null || data.change_percent === undefined ? "" : " (" + (data.change_percent > 0 ? "+" : "") + fmt(data.change_percent) + "%)";
    header(data.metric + ": " + fmt(num(data.previous.value)) + " \u2192 " + fmt(num(data.current.value)) + change, data.table);
    hbars([
      { label: "previous " + data.previous.start + " .. " + data.previous.end, value: num(data.previous.value) },
      { label: "current " + data.current.start + " .. " + data.current.end, value: num(data.current.value) }
    ]);
    var contributors = data.contributors || [];
    if (!contributors.length) return;
    html("h1", "Top contributors to the change" + (data.groups_total ? " (of " + fmt(data.groups_total) + " groups)" : ""));
    hbars(contributors.map(function (c) {
      var label = Object.keys(c.dimensions).map(function (k) { return k + "=" + c.dimensions[k]; }).join(", ");
      var value = num(c.change);
      return { label: label, value: value, cls: value !== null && value < 0 ? "down" : "up" };
    }), { signed: true });
  }

  function profile(data) {
    header("Profile of " + data.table, fmt(data.row_count) + " rows" + (data.sample_percent ? " (a " + data.sample_percent + "% sample)" : "") +
      " \u00b7 " + data.columns.length + " columns");
    var panels = html("div", "", "panels");
    data.columns.forEach(function (c) {
      var panel = html("section", "", "panel", panels);
      html("h2", c.name + " \u00b7 " + c.kind + " \u00b7 " + fmt(c.null_percent) + "% null", "", panel);
      if (num(c.p50) !== null) quantiles(panel, c);
      else if (c.top_values && c.top_values.length) topValues(panel, c);
      else html("p", "min " + fmt(c.min) + " \u00b7 max " + fmt(c.max), "note", panel);
    });
  }

  function quantiles(panel, c) {
    var w = 260, h = 64, svg = el("svg", { width: w, height: h, viewBox: "0 0 " + w + " " + h }, null);
    panel.appendChild(svg);
    var lo = num(c.min) !== null ? num(c.min) : num(c.p01), hi = num(c.max) !== null ? num(c.max) : num(c.p99);
    var x = linear([lo, hi], [8, w - 8]), mid = 22;
    el("line", { x1: x(lo), x2: x(hi), y1: mid, y2: mid, "class": "mark whisker" }, svg);
    el("line", { x1: x(num(c.p01)), x2: x(num(c.p99)), y1: mid, y2: mid, "class": "mark range" }, svg);
    tip(el("rect", { x: x(num(c.p25)), y: mid - 10, width: Math.max(1, x(num(c.p75)) - x(num(c.p25))), height: 20, "class": "mark bar" }, svg),
      "p25 " + fmt(c.p25) + " \u00b7 p50 " + fmt(c.p50) + " \u00b7 p75 " + fmt(c.p75));
    el("line", { x1: x(num(c.p50)), x2: x(num(c.p50)), y1: mid - 10, y2: mid + 10, "class": "mark median" }, svg);
    el("text", { x: 8, y: 54 }, svg).textContent = fmt(lo);
    el("text", { x: w - 8, y: 54, "text-anchor": "end" }, svg).textContent = fmt(hi);
    el("text", { x: w / 2, y: 54, "text-anchor": "middle" }, svg).textContent = "median " + fmt(num(c.p50));
  }

  function topValues(panel, c) {
    var rows = c.top_values.slice(0, 8), w = 260, rowHeight = 16;
    var svg = el("svg", { width: w, height: rows.length * rowHeight + 4, viewBox: "0 0 " + w + " " + (rows.length * rowHeight + 4) }, null);
    panel.appendChild(svg);
    var most = Math.max.apply(null, rows.map(function (r) { return r.count; })) || 1;
    rows.forEach(function (r, i) {
      var top = i * rowHeight + 2, label = String(r.value === null ? "NULL" : r.value);
      el("text", { x: 96, y: top + 11, "text-anchor": "end" }, svg).textContent = label.length > 14 ? label.slice(0, 13) + "\u2026" : label;
      tip(el("rect", { x: 100, y: top, width: Math.max(1, (w - 150) * r.count / most), height: rowHeight - 4, "class": "mark bar" }, svg),
        label + ": " + fmt(r.count) + (r.percent !== null && r.percent !== undefined ? " (" + fmt(r.percent) + "%)" : ""));
      el("text", { x: 104 + (w - 150) * r.count / most, y: top + 11 }, svg).textContent = fmt(r.count);
    });
  }

  var DRAW = { time_series: timeSeries, detect_anomalies: anomaliesWithSeries, histogram: histogram,
               compare_periods: comparePeriods, profile_table: profile };

  // detect_anomalies: draw the anomalies at once; where the host proxies tool calls, fetch the series
  // the anomalies were found in (time_series with the same table, column, metric, grain and filters)
  // and draw them on it.
  function anomaliesWithSeries(data) {
    anomalies(data);
    var input = state.input;
    if (state.series || !input || !state.hostCapabilities.serverTools || state.seriesAsked) return;
    state.seriesAsked = true;
    var args = { table: input.table, time_column: input.time_column, metric: input.metric };
    if (input.grain) args.grain = input.grain;
    if (input.filters) args.filters = input.filters;
    request("tools/call", { name: "time_series", arguments: args }).then(function (result) {
      var points = result && !result.isError && result.structuredContent && result.structuredContent.points;
      if (!points) return;
      state.series = points.map(function (p) { var t = time(p.time); return t && { ms: t.ms, text: p.time, value: num(p.value) }; }).filter(Boolean);
      root.textContent = "";
      anomalies(data);
    }, function () { /* the anomalies alone are drawn already */ });
  }

  start();
})();
