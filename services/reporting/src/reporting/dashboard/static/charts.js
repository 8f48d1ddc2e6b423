// CadreCare dashboard's charts and map: plain SVG of our own (no library, nothing from the internet).
// Every chart has axes, gridlines and a tooltip (an SVG <title> the browser shows, and the page's own
// tooltip box on hover/focus, which touch screens reach by tapping). Numbers are formatted by the caller's
// `fmt` (vi-VN), so that a chart never mixes "40,37" and "66.66".
window.CadreCharts = (() => {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const BAND_COLORS = { green: "#2e7d32", amber: "#f2a900", red: "#c62828", none: "#9aa5b1" };

  function svg(width, height, label) {
    const s = document.createElementNS(SVG, "svg");
    s.setAttribute("viewBox", `0 0 ${width} ${height}`);
    s.setAttribute("role", "img");
    if (label) s.setAttribute("aria-label", label);
    return s;
  }
  function node(name, attrs, text) {
    const n = document.createElementNS(SVG, name);
    Object.entries(attrs).forEach(([k, v]) => n.setAttribute(k, v));
    if (text !== undefined) n.textContent = text;
    return n;
  }
  // a mark with its tooltip: the <title> child, and data-tip for the page's tooltip box
  function tip(mark, text) {
    mark.append(node("title", {}, text));
    mark.setAttribute("data-tip", text);
    mark.setAttribute("tabindex", "0");
    return mark;
  }
  function niceMax(value) {
    if (value <= 0) return 1;
    const step = 10 ** Math.floor(Math.log10(value));
    return [1, 2, 2.5, 5, 10].map((m) => m * step).find((m) => m >= value);
  }
  function ticks(max, count = 5) { return Array.from({ length: count + 1 }, (_, i) => (max * i) / count); }

  // horizontal bars: items [{label, value, color, tip, previous, onClick}], value axis from 0 to max
  function bars(host, items, { max, fmt, suffix = "", target, empty }) {
    if (!items.length) return empty(host);
    const width = 520, rowH = 28, left = 170, right = 70, top = 8, axis = 24;
    const height = top + items.length * rowH + axis;
    const scaleMax = max || niceMax(Math.max(1, ...items.map((i) => i.value || 0)));
    const x = (v) => left + (v / scaleMax) * (width - left - right);
    const s = svg(width, height);
    ticks(scaleMax).forEach((v) => {
      s.append(node("line", { x1: x(v), y1: top, x2: x(v), y2: height - axis, class: "grid" }));
      s.append(node("text", { x: x(v), y: height - axis + 14, "text-anchor": "middle", class: "tick" }, fmt(v) + suffix));
    });
    s.append(node("line", { x1: left, y1: height - axis, x2: width - right, y2: height - axis, class: "axis" }));
    s.append(node("line", { x1: left, y1: top, x2: left, y2: height - axis, class: "axis" }));
    if (target !== undefined) {
      s.append(node("line", { x1: x(target), y1: top, x2: x(target), y2: height - axis, class: "target" }));
    }
    items.forEach((item, i) => {
      const y = top + i * rowH;
      const label = node("text", { x: left - 6, y: y + 18, "text-anchor": "end", class: "label" }, shorten(item.label, 24));
      label.append(node("title", {}, item.label));
      s.append(label);
      const bar = tip(node("rect", {
        x: left, y: y + 5, width: Math.max(0, x(item.value || 0) - left), height: rowH - 10,
        fill: item.color || "#8b1c1c", class: "bar", "data-label": item.label, "data-value": item.value ?? "",
      }), item.tip);
      if (item.onClick) { bar.classList.add("link"); bar.addEventListener("click", item.onClick); }
      s.append(bar);
      if (item.previous !== null && item.previous !== undefined) {
        s.append(tip(node("line", { x1: x(item.previous), y1: y + 2, x2: x(item.previous), y2: y + rowH - 2, class: "previous" }), item.previousTip));
      }
      s.append(node("text", { x: x(item.value || 0) + 4, y: y + 18, class: "value" }, item.value === null ? "–" : fmt(item.value) + suffix));
    });
    host.replaceChildren(s);
  }

  function shorten(text, n) { return text.length > n ? text.slice(0, n - 1) + "…" : text; }

  // lines over months: points [{month, ...}], series [{key, label, color}]
  function lines(host, points, series, { fmt, monthLabel, empty }) {
    if (!points.length || !points.some((p) => series.some((s) => p[s.key] > 0))) return empty(host);
    const width = 860, height = 280, left = 52, right = 16, top = 12, bottom = 64;
    const max = niceMax(Math.max(1, ...points.flatMap((p) => series.map((s) => p[s.key]))));
    const x = (i) => left + (i + 0.5) * ((width - left - right) / points.length);
    const y = (v) => top + (1 - v / max) * (height - top - bottom);
    const s = svg(width, height);
    ticks(max, 4).forEach((v) => {
      s.append(node("line", { x1: left, y1: y(v), x2: width - right, y2: y(v), class: "grid" }));
      s.append(node("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, fmt(v)));
    });
    s.append(node("line", { x1: left, y1: y(0), x2: width - right, y2: y(0), class: "axis" }));
    s.append(node("line", { x1: left, y1: top, x2: left, y2: y(0), class: "axis" }));
    points.forEach((p, i) => s.append(node("text", { x: x(i), y: y(0) + 16, "text-anchor": "middle", class: "tick" }, monthLabel(p.month))));
    series.forEach((line, k) => {
      s.append(node("polyline", { points: points.map((p, i) => `${x(i)},${y(p[line.key])}`).join(" "), fill: "none", stroke: line.color, "stroke-width": 2, "data-series": line.key }));
      points.forEach((p, i) => s.append(tip(node("circle", { cx: x(i), cy: y(p[line.key]), r: 4, fill: line.color, class: "point" }), `${line.label} – ${monthLabel(p.month)}: ${fmt(p[line.key])}`)));
      const lx = left + (k % 3) * 260, ly = height - 26 + Math.floor(k / 3) * 16;
      s.append(node("rect", { x: lx, y: ly - 9, width: 10, height: 10, fill: line.color }));
      s.append(node("text", { x: lx + 14, y: ly, class: "legend" }, line.label));
    });
    host.replaceChildren(s);
  }

  // Vietnam's extent (mainland and near islands), for the nation's map: the frame does not jump with the data
  const VIETNAM = { south: 8.2, north: 23.6, west: 102.0, east: 110.0 };

  function extentOf(units) {
    const lat = units.map((u) => u.latitude), lon = units.map((u) => u.longitude);
    const pad = 0.15;
    return {
      south: Math.min(...lat) - pad, north: Math.max(...lat) + pad,
      west: Math.min(...lon) - pad, east: Math.max(...lon) + pad,
    };
  }

  // symbols at the units' coordinates (equirectangular, longitudes shrunk by cos(mid-latitude)), coloured by band
  function map(host, units, { nation, fmt, describe, onPick, empty, legend }) {
    const placed = units.filter((u) => u.latitude !== null && u.latitude !== undefined && u.longitude !== null && u.longitude !== undefined);
    if (!placed.length) return empty(host);
    const box = nation ? VIETNAM : extentOf(placed);
    const kx = Math.cos(((box.north + box.south) / 2) * Math.PI / 180);
    const spanX = Math.max((box.east - box.west) * kx, 0.2), spanY = Math.max(box.north - box.south, 0.2);
    const height = 420, inner = height - 40, scale = inner / Math.max(spanY, spanX * 0.8);
    const width = Math.max(260, Math.min(720, spanX * scale + 70));
    const px = (lon) => 50 + (lon - box.west) * kx * scale;
    const py = (lat) => 15 + (box.north - lat) * scale;
    const s = svg(width, height, "map");
    s.classList.add("map");
    const step = spanY > 6 ? 2 : spanY > 2 ? 0.5 : 0.1;
    for (let lat = Math.ceil(box.south / step) * step; lat <= box.north; lat += step) {
      s.append(node("line", { x1: 50, y1: py(lat), x2: width - 5, y2: py(lat), class: "grid" }));
      s.append(node("text", { x: 46, y: py(lat) + 4, "text-anchor": "end", class: "tick" }, fmt(lat) + "°B"));
    }
    for (let lon = Math.ceil(box.west / step) * step; lon <= box.east; lon += step) {
      if (px(lon) > width - 5) break;
      s.append(node("line", { x1: px(lon), y1: 15, x2: px(lon), y2: height - 25, class: "grid" }));
      s.append(node("text", { x: px(lon), y: height - 10, "text-anchor": "middle", class: "tick" }, fmt(lon) + "°Đ"));
    }
    placed.forEach((u) => {
      const mark = tip(node("circle", {
        cx: px(u.longitude), cy: py(u.latitude), r: nation ? 9 : 7, fill: BAND_COLORS[u.band || "none"],
        class: "symbol", "data-path": u.path, "data-band": u.band || "none",
      }), describe(u));
      if (onPick && u.level !== "commune") { mark.classList.add("link"); mark.addEventListener("click", () => onPick(u)); }
      s.append(mark);
    });
    const frame = document.createElement("div");
    frame.className = "map-frame";
    frame.append(s, legend());
    host.replaceChildren(frame);
  }

  // the page's tooltip box: follows the pointer over (or focus on) any mark with data-tip
  function tooltips(box) {
    const show = (target, x, y) => {
      box.textContent = target.getAttribute("data-tip");
      box.hidden = false;
      const room = document.documentElement.clientWidth - box.offsetWidth - 8;
      box.style.left = Math.max(4, Math.min(x + 12, room)) + "px";
      box.style.top = (y + 12 + window.scrollY) + "px";
    };
    document.addEventListener("pointerover", (e) => { const t = e.target.closest && e.target.closest("[data-tip]"); if (t) show(t, e.clientX, e.clientY); });
    document.addEventListener("pointerout", (e) => { if (e.target.closest && e.target.closest("[data-tip]")) box.hidden = true; });
    document.addEventListener("focusin", (e) => { const t = e.target.closest && e.target.closest("[data-tip]"); if (t) { const r = t.getBoundingClientRect(); show(t, r.right, r.top); } });
    document.addEventListener("focusout", () => { box.hidden = true; });
  }

  return { bars, lines, map, tooltips, BAND_COLORS };
})();
