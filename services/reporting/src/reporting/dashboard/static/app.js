// CadreCare dashboard: signs in through the gateway, then reads /reporting/* with the caller's token.
// No third-party code: charts and the map are plain SVG (charts.js). The API base is the gateway's /api/v1:
// the same origin when the page is served through the gateway (/api/v1/reporting/dashboard/), or ?api=<gateway>/api/v1.
// Numbers and dates are Vietnamese whatever the language of the words: 1.234,5 and dd/mm/yyyy.
(() => {
  "use strict";
  const C = window.CadreCharts;
  const params = new URLSearchParams(location.search);
  const API = (params.get("api") || (location.pathname.includes("/api/v1/") ? location.pathname.split("/api/v1/")[0] + "/api/v1" : "/api/v1")).replace(/\/$/, "");
  const SHOWN_ROWS = 50; // rows of a list on the page; the export holds them all

  const TEXT = {
    vi: {
      title: "Bảo vệ, chăm sóc sức khỏe cán bộ – Bảng điều khiển", signin: "Đăng nhập", logout: "Đăng xuất", peopleLink: "Người dùng, bệnh viện",
      username: "Tên đăng nhập", password: "Mật khẩu", unit: "Đơn vị", from: "Từ ngày", asOfDate: "Tính đến ngày", apply: "Xem",
      basis: "Đơn vị hành chính", asThen: "như trong kỳ", onToday: "quy về đơn vị hiện nay",
      xlsx: "Tải báo cáo XLSX", pdf: "Tải báo cáo PDF", exportXlsx: "Xuất XLSX", cadres: "Tổng số đối tượng", active: "Đương chức",
      retired: "Nguyên chức", coverage: "Tỷ lệ khám định kỳ", chartMap: "Bản đồ tỷ lệ khám định kỳ",
      chartClassification: "Phân loại sức khỏe", chartCoverage: "Tỷ lệ khám định kỳ theo đơn vị", chartMonthly: "Hoạt động khám chữa bệnh theo tháng",
      tableCompare: "So sánh với kỳ trước", tableUnits: "Khám định kỳ theo đơn vị trực thuộc",
      tableFacilities: "Hoạt động gửi dữ liệu của cơ sở khám, chữa bệnh", listNotExamined: "Cán bộ chưa khám sức khỏe định kỳ",
      listAbnormal: "Kết quả bất thường chưa được theo dõi",
      tableCadres: "Đối tượng theo diện quản lý", tableCoverage: "Khám sức khỏe định kỳ theo nhóm",
      tableActivity: "Khám, chữa bệnh trong kỳ", tableChronic: "Bệnh mạn tính", lang: "English",
      asOf: "tính đến", noData: "Không có dữ liệu", wrongLogin: "Sai tên đăng nhập hoặc mật khẩu",
      tier: "Diện quản lý", total: "Tổng", plan: "Kế hoạch", status: "Tình trạng", invited: "Được mời",
      examined: "Đã khám", rate: "Tỷ lệ", activity: "Hoạt động", count: "Số lượt", condition: "Nhóm bệnh",
      people: "Số người", prevalence: "Tỷ lệ", suppressed: "(ẩn)", figure: "Chỉ tiêu", thisPeriod: "Kỳ này",
      previousPeriod: "Kỳ trước", changeCol: "Thay đổi", points: "điểm %", previousShort: "kỳ trước", unitCol: "Đơn vị",
      period: "Kỳ", comparedWith: "so với kỳ trước", target: "Mục tiêu", legend: "Chú giải",
      bandGreen: "đạt mục tiêu", bandAmber: "dưới mục tiêu", bandRed: "thấp", bandNone: "chưa có số liệu",
      mapHint: "Mỗi điểm là một đơn vị, vẽ theo tọa độ; bấm vào điểm để xem các đơn vị cấp dưới.",
      notPlaced: "không có tọa độ", facility: "Cơ sở", lastPosted: "Ngày khám gần nhất đã gửi", daysSilent: "Số ngày",
      sending: "Đang gửi", silent: "Ngừng gửi", facilitiesNote: "Đánh dấu “Ngừng gửi” khi quá {n} ngày không có lượt khám mới.",
      cadreId: "Mã cán bộ", invitedOn: "Ngày hẹn", invitation: "Lời mời", kind: "Loại", day: "Ngày", classCol: "Phân loại",
      followUp: "Cần theo dõi", waiting: "Số ngày chờ", yes: "có", no: "không", shownOf: "Tổng: {total}, hiển thị {shown}",
      badDate: "Ngày không hợp lệ: nhập theo dạng dd/mm/yyyy", reversed: "Ngày bắt đầu kỳ sau ngày tính đến",
      future: "Ngày tính đến ở tương lai", invited_status: "đã mời", no_show: "vắng", cancelled: "đã hủy", attended: "đã khám",
      coverage_rate: "Tỷ lệ khám định kỳ", classified: "Được phân loại sức khỏe", abnormal: "Loại C, D",
      periodic_exams: "Khám định kỳ", outpatient_visits: "Khám ngoại trú", admissions: "Điều trị nội trú",
      referrals: "Chuyển viện", referrals_total: "Chuyển viện", referrals_higher_level: "Chuyển tuyến trên", referrals_in_province: "Chuyển trong tỉnh",
      referrals_abroad: "Ra nước ngoài", home_visits: "Khám tại nhà", consultations: "Hội chẩn",
      periodic_exam: "Khám định kỳ", outpatient_visit: "Khám ngoại trú", admission: "Nội trú", referral: "Chuyển viện", home_visit: "Khám tại nhà", consultation: "Hội chẩn",
      central: "Diện BCT, BBT quản lý", provincial_1: "Đối tượng 1", provincial_2: "Đối tượng 2", provincial_3: "Đối tượng 3",
      district: "Diện huyện quản lý", commune: "Diện xã quản lý", treatment_only: "Chỉ khám, điều trị",
    },
    en: {
      title: "Cadre health protection and care – Dashboard", signin: "Sign in", logout: "Sign out", peopleLink: "Users, hospitals",
      username: "Username", password: "Password", unit: "Unit", from: "From", asOfDate: "As of", apply: "Show",
      basis: "Units", asThen: "as they stood then", onToday: "mapped onto today's",
      xlsx: "Download report (XLSX)", pdf: "Download report (PDF)", exportXlsx: "Export XLSX", cadres: "Cadres under care", active: "Active",
      retired: "Retired", coverage: "Periodic exam coverage", chartMap: "Map of periodic exam coverage",
      chartClassification: "Health classification", chartCoverage: "Periodic exam coverage by unit", chartMonthly: "Clinical activity by month",
      tableCompare: "Compared with the previous period", tableUnits: "Periodic exams by unit below",
      tableFacilities: "Facilities sending data", listNotExamined: "Cadres not yet examined",
      listAbnormal: "Abnormal findings without a follow-up",
      tableCadres: "Cadres by management tier", tableCoverage: "Periodic exams by group",
      tableActivity: "Care in the period", tableChronic: "Chronic conditions", lang: "Tiếng Việt",
      asOf: "as of", noData: "No data", wrongLogin: "Wrong username or password",
      tier: "Tier", total: "Total", plan: "Plan", status: "Status", invited: "Invited", examined: "Examined",
      rate: "Rate", activity: "Activity", count: "Count", condition: "Condition", people: "Cadres",
      prevalence: "Prevalence", suppressed: "(hidden)", figure: "Figure", thisPeriod: "This period",
      previousPeriod: "Previous period", changeCol: "Change", points: "pts", previousShort: "previous", unitCol: "Unit",
      period: "Period", comparedWith: "compared with", target: "Target", legend: "Legend",
      bandGreen: "on target", bandAmber: "below target", bandRed: "low", bandNone: "no figures yet",
      mapHint: "Each point is a unit, drawn at its coordinates; click a point to see the units below it.",
      notPlaced: "without coordinates", facility: "Facility", lastPosted: "Latest encounter sent", daysSilent: "Days",
      sending: "Sending", silent: "Silent", facilitiesNote: "Flagged “Silent” after {n} days without a new encounter.",
      cadreId: "Cadre id", invitedOn: "Appointment", invitation: "Invitation", kind: "Kind", day: "Date", classCol: "Class",
      followUp: "Follow-up asked", waiting: "Days waiting", yes: "yes", no: "no", shownOf: "Total: {total}, shown {shown}",
      badDate: "Invalid date: use dd/mm/yyyy", reversed: "The period starts after its as-of date",
      future: "The as-of date is in the future", invited_status: "invited", no_show: "no show", cancelled: "cancelled", attended: "attended",
      coverage_rate: "Periodic exam coverage", classified: "Classified", abnormal: "Class C, D",
      periodic_exams: "Periodic exams", outpatient_visits: "Outpatient visits", admissions: "Admissions",
      referrals: "Referrals", referrals_total: "Referrals", referrals_higher_level: "Referred to a higher level", referrals_in_province: "Referred within the province",
      referrals_abroad: "Treated abroad", home_visits: "Home visits", consultations: "Consultations",
      periodic_exam: "Periodic exam", outpatient_visit: "Outpatient visit", admission: "Admission", referral: "Referral", home_visit: "Home visit", consultation: "Consultation",
      central: "Central tier", provincial_1: "Group 1", provincial_2: "Group 2", provincial_3: "Group 3",
      district: "District tier", commune: "Commune tier", treatment_only: "Treatment only",
    },
  };
  let lang = sessionStorage.getItem("cc-lang") || "vi";
  let last = null;
  const $ = (id) => document.getElementById(id);
  const t = (key) => TEXT[lang][key] ?? key;
  const token = () => sessionStorage.getItem("cc-token");

  // --- formats: vi-VN always -------------------------------------------------------------------------
  const NUMBER = new Intl.NumberFormat("vi-VN", { maximumFractionDigits: 2 });
  const fmt = (n) => (n === null || n === undefined ? t("suppressed") : NUMBER.format(n));
  const pct = (n) => (n === null || n === undefined ? "–" : NUMBER.format(n) + " %");
  const signed = (n, unit = "") => (n === null || n === undefined ? "–" : (n > 0 ? "+" : n < 0 ? "−" : "±") + NUMBER.format(Math.abs(n)) + unit);
  const dmy = (iso) => (iso ? `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}` : "–");
  const monthLabel = (ym) => `${ym.slice(5, 7)}/${ym.slice(0, 4)}`;
  function isoOf(text) {
    const m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(text || "");
    if (!m) return null;
    const iso = `${m[3]}-${m[2].padStart(2, "0")}-${m[1].padStart(2, "0")}`;
    const day = new Date(iso + "T00:00:00Z");
    return Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== iso ? null : iso;
  }
  // Vietnam's date, as the services count it (UTC's is still yesterday until 07:00 in Hà Nội)
  const todayIso = () => new Date().toLocaleDateString("en-CA", { timeZone: "Asia/Ho_Chi_Minh" });

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

  function unitOption(path, name, level) {
    const indent = { province: "", district: "\u00a0\u00a0", commune: "\u00a0\u00a0\u00a0\u00a0" }[level] ?? "";
    return new Option(indent + name, path);
  }

  async function start() {
    $("signin").hidden = true; $("dashboard").hidden = false; $("logout").hidden = false;
    $("who").textContent = sessionStorage.getItem("cc-user") || "";
    const units = await (await api("/reporting/units")).json();
    $("unit").replaceChildren(...units.map((u) => unitOption(u.path, u.name, u.level)));
    const today = todayIso();
    if (!$("as-of-date").value) $("as-of-date").value = dmy(today);
    if (!$("period-start").value) $("period-start").value = dmy(today.slice(0, 4) + "-01-01");
    await load();
  }

  // the filters as the API takes them; an error (in the page's words) when a date cannot be read
  function query() {
    const start = isoOf($("period-start").value), asOf = isoOf($("as-of-date").value);
    if (!start || !asOf) throw new Error(t("badDate"));
    if (start > asOf) throw new Error(t("reversed"));
    if (asOf > todayIso()) throw new Error(t("future"));
    return { unit: $("unit").value, period_start: start, as_of: asOf, basis: $("basis").value };
  }

  let asked = 0; // the latest load: an earlier one answering later (a nation's figures) must not paint over it
  async function load(event) {
    if (event) event.preventDefault();
    $("message").textContent = "";
    const mine = ++asked;
    try {
      const q = query();
      const list = { ...q, limit: SHOWN_ROWS };
      const [summary, map, comparison, notExamined, abnormal, facilities] = await Promise.all([
        api("/reporting/summary", q), api("/reporting/coverage-map", q), api("/reporting/comparison", q),
        api("/reporting/lists/not-examined", list), api("/reporting/lists/abnormal-findings", list),
        api("/reporting/facility-activity", { unit: q.unit, as_of: q.as_of, basis: q.basis }),
      ].map((p) => p.then((a) => a.json())));
      if (mine !== asked) return;
      last = { summary, map, comparison, notExamined, abnormal, facilities };
      render(last);
    } catch (error) {
      if (mine === asked) $("message").textContent = error.message;
    }
  }

  function drill(path, name, level) {
    if (![...$("unit").options].some((o) => o.value === path)) $("unit").append(unitOption(path, name, level));
    $("unit").value = path;
    return load();
  }

  async function save(path, query, filename) {
    $("message").textContent = "";
    try {
      const answer = await api(path, query);
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await answer.blob());
      link.download = filename;
      document.body.append(link); link.click(); link.remove();
    } catch (error) {
      $("message").textContent = error.message;
    }
  }
  function download(format) {
    let q;
    try { q = query(); } catch (error) { $("message").textContent = error.message; return; }
    const report = { unit: q.unit, period_start: q.period_start, period_end: q.as_of, basis: q.basis, format };
    return save("/reporting/reports/board", report, `bao-cao-${q.unit}.${format}`);
  }
  function exportList(kind, stem) {
    let q;
    try { q = query(); } catch (error) { $("message").textContent = error.message; return; }
    return save(`/reporting/lists/${kind}`, { ...q, format: "xlsx" }, `${stem}-${q.unit}.xlsx`);
  }

  // a count the API hides from an aggregate-only caller: None, or 0 named in the model's `suppressed` list
  const shown = (o, k) => ((o.suppressed || []).includes(k) ? null : o[k]);
  const sumShown = (...v) => (v.some((x) => x === null) ? null : v.reduce((s, x) => s + (x || 0), 0));

  function table(id, header, rows) {
    const el = $(id);
    el.tHead.replaceChildren(row(header, "th"));
    el.tBodies[0].replaceChildren(...(rows.length ? rows : [[t("noData"), ...header.slice(1).map(() => "")]]).map((r) => row(r, "td")));
  }
  function row(cells, tag) {
    const tr = document.createElement("tr");
    cells.forEach((c) => { const cell = document.createElement(tag); if (c instanceof Node) cell.append(c); else cell.textContent = c; tr.append(cell); });
    return tr;
  }
  function element(tag, attrs, text) {
    const el = document.createElement(tag);
    Object.entries(attrs).forEach(([k, v]) => el.setAttribute(k, v));
    if (text !== undefined) el.textContent = text;
    return el;
  }
  const badge = (band, text) => element("span", { class: "badge " + (band || "none") }, text);
  function empty(host) { host.replaceChildren(element("p", { class: "empty" }, t("noData"))); }

  window.CadreDashboard = { render: (d) => render(d), fmt, pct, dmy, t: (k) => t(k), badge, element, table, drill, signed, empty, monthLabel, shown, sumShown };

  function render(d) {
    window.CadreDashboardParts.render(d);
  }

  $("login-form").addEventListener("submit", signIn);
  $("login").disabled = false;
  $("filters").addEventListener("submit", load);
  $("logout").addEventListener("click", signOut);
  $("download-xlsx").addEventListener("click", () => download("xlsx"));
  $("download-pdf").addEventListener("click", () => download("pdf"));
  $("export-not-examined").addEventListener("click", () => exportList("not-examined", "chua-kham"));
  $("export-abnormal").addEventListener("click", () => exportList("abnormal-findings", "bat-thuong"));
  $("lang").addEventListener("click", () => { lang = lang === "vi" ? "en" : "vi"; sessionStorage.setItem("cc-lang", lang); applyLanguage(); });
  C.tooltips($("tooltip"));
  window.addEventListener("DOMContentLoaded", () => {
    applyLanguage();
    if (token()) start().catch(signOut);
  });
})();
