// CadreCare dashboard: signs in through the gateway, then reads /reporting/* with the caller's token.
// No third-party code: charts are plain SVG. The API base is the gateway's /api/v1: the same origin when
// the page is served through the gateway (/api/v1/reporting/dashboard/), or ?api=<gateway>/api/v1.
(() => {
  "use strict";
  const params = new URLSearchParams(location.search);
  const API = (params.get("api") || (location.pathname.includes("/api/v1/") ? location.pathname.split("/api/v1/")[0] + "/api/v1" : "/api/v1")).replace(/\/$/, "");

  const TEXT = {
    vi: {
      title: "Bảo vệ, chăm sóc sức khỏe cán bộ – Bảng điều khiển", signin: "Đăng nhập", logout: "Đăng xuất",
      username: "Tên đăng nhập", password: "Mật khẩu", unit: "Đơn vị", from: "Từ ngày", to: "Đến ngày", apply: "Xem",
      basis: "Đơn vị hành chính", asThen: "như trong kỳ", onToday: "quy về đơn vị hiện nay",
      xlsx: "Tải báo cáo XLSX", pdf: "Tải báo cáo PDF", cadres: "Tổng số đối tượng", active: "Đương chức",
      retired: "Nguyên chức", change: "Thay đổi so với đầu kỳ", chartClassification: "Phân loại sức khỏe",
      chartCoverage: "Tỷ lệ khám định kỳ theo đơn vị", chartMonthly: "Hoạt động khám chữa bệnh theo tháng",
      tableCadres: "Đối tượng theo diện quản lý", tableCoverage: "Khám sức khỏe định kỳ theo nhóm",
      tableActivity: "Khám, chữa bệnh trong kỳ", tableChronic: "Bệnh mạn tính", lang: "English",
      asOf: "tính đến", noData: "Không có dữ liệu", wrongLogin: "Sai tên đăng nhập hoặc mật khẩu",
      tier: "Diện quản lý", total: "Tổng", plan: "Kế hoạch", status: "Tình trạng", invited: "Được mời",
      examined: "Đã khám", rate: "Tỷ lệ (%)", activity: "Hoạt động", count: "Số lượt", condition: "Nhóm bệnh",
      people: "Số người", prevalence: "Tỷ lệ (%)", suppressed: "(ẩn)",
      periodic_exams: "Khám định kỳ", outpatient_visits: "Khám ngoại trú", admissions: "Điều trị nội trú",
      referrals: "Chuyển viện", referrals_higher_level: "Chuyển tuyến trên", referrals_in_province: "Chuyển trong tỉnh",
      referrals_abroad: "Ra nước ngoài", home_visits: "Khám tại nhà", consultations: "Hội chẩn",
      central: "Diện BCT, BBT quản lý", provincial_1: "Đối tượng 1", provincial_2: "Đối tượng 2", provincial_3: "Đối tượng 3",
      district: "Diện huyện quản lý", treatment_only: "Chỉ khám, điều trị",
    },
    en: {
      title: "Cadre health protection and care – Dashboard", signin: "Sign in", logout: "Sign out",
      username: "Username", password: "Password", unit: "Unit", from: "From", to: "To", apply: "Show",
      basis: "Units", asThen: "as they stood then", onToday: "mapped onto today's",
      xlsx: "Download report (XLSX)", pdf: "Download report (PDF)", cadres: "Cadres under care", active: "Active",
      retired: "Retired", change: "Change since the period's start", chartClassification: "Health classification",
      chartCoverage: "Periodic exam coverage by unit", chartMonthly: "Clinical activity by month",
      tableCadres: "Cadres by management tier", tableCoverage: "Periodic exams by group",
      tableActivity: "Care in the period", tableChronic: "Chronic conditions", lang: "Tiếng Việt",
      asOf: "as of", noData: "No data", wrongLogin: "Wrong username or password",
      tier: "Tier", total: "Total", plan: "Plan", status: "Status", invited: "Invited", examined: "Examined",
      rate: "Rate (%)", activity: "Activity", count: "Count", condition: "Condition", people: "Cadres",
      prevalence: "Prevalence (%)", suppressed: "(hidden)",
      periodic_exams: "Periodic exams", outpatient_visits: "Outpatient visits", admissions: "Admissions",
      referrals: "Referrals", referrals_higher_level: "Referred to a higher level", referrals_in_province: "Referred within the province",
      referrals_abroad: "Treated abroad", home_visits: "Home visits", consultations: "Consultations",
      central: "Central tier", provincial_1: "Group 1", provincial_2: "Group 2", provincial_3: "Group 3",
      district: "District tier", treatment_only: "Treatment only",
    },
  };
  let lang = sessionStorage.getItem("cc-lang") || "vi";
  let last = null;
  const $ = (id) => document.getElementById(id);
  const t = (key) => TEXT[lang][key] ?? key;
  const token = () => sessionStorage.getItem("cc-token");

  function applyLanguage() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    $("lang").textContent = t("lang");
    if (last) render(last);
  }

  async function api(path, query) {
    const url = new URL(API + path, location.href);
    Object.entries(query || {}).forEach(([k, v]) => url.searchParams.set(k, v));
    const answer = await fetch(url, { headers: { authorization: "Bearer " + token() } });
    if (answer.status === 401) { signOut(); throw new Error(t("signin")); }
    if (!answer.ok) {
      const problem = await answer.json().catch(() => ({ detail: answer.statusText }));
      throw new Error(problem.detail + (problem.errors && problem.errors.length ? " (" + problem.errors.map((e) => e.loc.join(".") + ": " + e.msg).join("; ") + ")" : ""));
    }
    return answer;
  }

  async function signIn(event) {
    event.preventDefault();
    $("login-error").textContent = "";
    const body = new URLSearchParams({ grant_type: "password", username: $("username").value, password: $("password").value });
    const answer = await fetch(API + "/auth/token", { method: "POST", body });
    if (!answer.ok) { $("login-error").textContent = t("wrongLogin"); return; }
    sessionStorage.setItem("cc-token", (await answer.json()).access_token);
    sessionStorage.setItem("cc-user", $("username").value);
    await start();
  }

  function signOut() {
    sessionStorage.removeItem("cc-token");
    $("dashboard").hidden = true; $("signin").hidden = false; $("logout").hidden = true; $("who").textContent = "";
  }

  async function start() {
    $("signin").hidden = true; $("dashboard").hidden = false; $("logout").hidden = false;
    $("who").textContent = sessionStorage.getItem("cc-user") || "";
    const units = await (await api("/reporting/units")).json();
    $("unit").replaceChildren(...units.map((u) => new Option(`${u.name} (${u.path})`, u.path)));
    // Vietnam's date, as the services count it (UTC's is still yesterday until 07:00 in Hà Nội)
    const today = new Date().toLocaleDateString("en-CA", { timeZone: "Asia/Ho_Chi_Minh" });
    if (!$("period-end").value) $("period-end").value = today;
    if (!$("period-start").value) $("period-start").value = today.slice(0, 4) + "-01-01";
    await load();
  }

  function query() {
    return { unit: $("unit").value, period_start: $("period-start").value, period_end: $("period-end").value, basis: $("basis").value };
  }

  async function load(event) {
    if (event) event.preventDefault();
    $("message").textContent = "";
    try {
      last = await (await api("/reporting/summary", query())).json();
      render(last);
    } catch (error) {
      $("message").textContent = error.message;
    }
  }

  async function download(format) {
    $("message").textContent = "";
    try {
      const answer = await api("/reporting/reports/board", { ...query(), format });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await answer.blob());
      link.download = `bao-cao-${query().unit}.${format}`;
      document.body.append(link); link.click(); link.remove();
    } catch (error) {
      $("message").textContent = error.message;
    }
  }

  // a count the API hides from an aggregate-only caller: None, or 0 named in the model's `suppressed` list
  const shown = (o, k) => ((o.suppressed || []).includes(k) ? null : o[k]);
  const sumShown = (...v) => (v.some((x) => x === null) ? null : v.reduce((s, x) => s + (x || 0), 0));
  const fmt = (n) => (n === null || n === undefined ? t("suppressed") : Number(n).toLocaleString(lang === "vi" ? "vi-VN" : "en-GB"));

  function table(id, header, rows) {
    const el = $(id);
    el.tHead.replaceChildren(row(header, "th"));
    el.tBodies[0].replaceChildren(...(rows.length ? rows : [[t("noData"), ...header.slice(1).map(() => "")]]).map((r) => row(r, "td")));
  }
  function row(cells, tag) {
    const tr = document.createElement("tr");
    cells.forEach((c) => { const cell = document.createElement(tag); cell.textContent = c; tr.append(cell); });
    return tr;
  }

  const SVG = "http://www.w3.org/2000/svg";
  function svg(width, height) { const s = document.createElementNS(SVG, "svg"); s.setAttribute("viewBox", `0 0 ${width} ${height}`); s.setAttribute("role", "img"); return s; }
  function node(name, attrs, text) {
    const n = document.createElementNS(SVG, name);
    Object.entries(attrs).forEach(([k, v]) => n.setAttribute(k, v));
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function empty(id) { const p = document.createElement("p"); p.className = "empty"; p.textContent = t("noData"); $(id).replaceChildren(p); }

  function bars(id, items, { max, suffix = "" } = {}) {
    if (!items.length) return empty(id);
    const width = 420, rowH = 26, left = 150, height = items.length * rowH + 10;
    const top = max || Math.max(1, ...items.map((i) => i.value || 0));
    const s = svg(width, height);
    items.forEach((item, i) => {
      const y = 5 + i * rowH, w = ((item.value || 0) / top) * (width - left - 70);
      s.append(node("text", { x: 0, y: y + 16, "font-size": 12 }, item.label));
      s.append(node("rect", { x: left, y: y + 4, width: Math.max(w, 0), height: rowH - 8, fill: item.color || "#8b1c1c", "data-label": item.label, "data-value": item.value ?? "" }));
      s.append(node("text", { x: left + w + 4, y: y + 16, "font-size": 12 }, item.value === null ? t("suppressed") : fmt(item.value) + suffix));
    });
    $(id).replaceChildren(s);
  }

  function monthly(id, points) {
    const series = ["outpatient_visits", "admissions", "referrals", "home_visits", "periodic_exams"];
    const colors = ["#8b1c1c", "#1f6f8b", "#d98e04", "#3b8b3b", "#6d4c9f"];
    if (!points.length || !points.some((p) => series.some((k) => p[k] > 0))) return empty(id);
    const width = 860, height = 240, left = 40, bottom = 40, top = Math.max(1, ...points.flatMap((p) => series.map((k) => p[k])));
    const s = svg(width, height);
    const x = (i) => left + (i + 0.5) * ((width - left - 10) / points.length);
    const y = (v) => height - bottom - (v / top) * (height - bottom - 20);
    s.append(node("line", { x1: left, y1: height - bottom, x2: width - 10, y2: height - bottom, stroke: "#999" }));
    points.forEach((p, i) => s.append(node("text", { x: x(i), y: height - bottom + 14, "font-size": 10, "text-anchor": "middle" }, p.month)));
    series.forEach((key, k) => {
      s.append(node("polyline", { points: points.map((p, i) => `${x(i)},${y(p[key])}`).join(" "), fill: "none", stroke: colors[k], "stroke-width": 2, "data-series": key }));
      s.append(node("rect", { x: left + k * 165, y: height - 16, width: 10, height: 10, fill: colors[k] }));
      s.append(node("text", { x: left + k * 165 + 14, y: height - 7, "font-size": 11 }, t(key)));
    });
    s.append(node("text", { x: 2, y: 14, "font-size": 10 }, fmt(top)));
    $(id).replaceChildren(s);
  }

  function render(d) {
    const c = d.cadres;
    $("total-cadres").textContent = fmt(shown(c, "total"));
    $("active-cadres").textContent = fmt(shown(c, "active"));
    $("retired-cadres").textContent = fmt(shown(c, "retired"));
    $("change-cadres").textContent = (shown(c, "change") > 0 ? "+" : "") + fmt(shown(c, "change"));
    $("as-of").textContent = `${t("asOf")} ${c.as_of}`;
    if (!d.has_data) $("message").textContent = d.message;
    const classColors = { A: "#3b8b3b", B1: "#8fbf3f", B2: "#d98e04", C: "#c4501b", D: "#8b1c1c" };
    bars("chart-classification", d.classification.has_data ? d.classification.rows.map((r) => ({ label: lang === "vi" ? r.label_vi : r.label_en, value: r.count, color: classColors[r.code] })) : []);
    const byUnit = d.coverage.by_unit.map((r) => ({ label: r.unit, value: r.rate }));
    bars("chart-coverage", byUnit, { max: 100, suffix: "%" });
    monthly("chart-monthly", d.monthly);
    const tiers = {};
    c.rows.forEach((r) => { (tiers[r.tier] ||= { active: 0, retired: 0 })[r.status] = shown(r, "count"); });
    table("table-cadres", [t("tier"), t("active"), t("retired"), t("total")],
      Object.entries(tiers).map(([tier, v]) => [t(tier), fmt(v.active), fmt(v.retired), fmt(sumShown(v.active, v.retired))]).concat(c.rows.length ? [[t("total"), fmt(shown(c, "active")), fmt(shown(c, "retired")), fmt(shown(c, "total"))]] : []));
    table("table-coverage", [t("plan"), t("tier"), t("status"), t("invited"), t("examined"), t("rate")],
      d.coverage.by_group.map((r) => [r.plan_title || r.plan_id, t(r.tier), r.status ? t(r.status) : "–", fmt(shown(r, "invited")), fmt(shown(r, "examined")), r.rate === null ? "–" : r.rate]));
    const a = d.activity;
    table("table-activity", [t("activity"), t("count")], a.has_data ? ["periodic_exams", "outpatient_visits", "admissions", "referrals_higher_level", "referrals_in_province", "referrals_abroad", "home_visits", "consultations"].map((k) => [t(k), fmt(shown(a, k))]) : []);
    table("table-chronic", [t("condition"), t("people"), t("prevalence")], d.chronic.has_data ? d.chronic.rows.map((r) => [lang === "vi" ? r.label_vi : r.label_en, fmt(r.cadres), r.prevalence ?? "–"]) : []);
  }

  $("login-form").addEventListener("submit", signIn);
  $("login").disabled = false;
  $("filters").addEventListener("submit", load);
  $("logout").addEventListener("click", signOut);
  $("download-xlsx").addEventListener("click", () => download("xlsx"));
  $("download-pdf").addEventListener("click", () => download("pdf"));
  $("lang").addEventListener("click", () => { lang = lang === "vi" ? "en" : "vi"; sessionStorage.setItem("cc-lang", lang); applyLanguage(); });
  applyLanguage();
  if (token()) start().catch(signOut);
})();
