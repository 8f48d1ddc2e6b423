// CadreCare dashboard: drawing the answers (summary, map and drill-down, comparison, lists, facilities) with
// the helpers of app.js (window.CadreDashboard) and the SVG of charts.js (window.CadreCharts).
window.CadreDashboardParts = (() => {
  "use strict";
  const C = window.CadreCharts;
  const $ = (id) => document.getElementById(id);
  const COMPARED = ["cadres", "active", "retired", "invited", "examined", "coverage_rate", "classified", "abnormal", "outpatient_visits", "admissions", "referrals_total", "home_visits"];

  function crumbs(D, map) {
    const parts = [];
    map.trail.forEach((c, i) => {
      if (i) parts.push(D.element("span", { class: "sep" }, "›"));
      if (i === map.trail.length - 1) parts.push(D.element("strong", {}, c.name));
      else {
        const link = D.element("a", { href: "#", "data-path": c.path }, c.name);
        link.addEventListener("click", (e) => { e.preventDefault(); D.drill(c.path, c.name, c.level); });
        parts.push(link);
      }
    });
    $("crumbs").replaceChildren(...parts);
  }

  function legend(D, target) {
    const box = D.element("div", { class: "legend-box", id: "map-legend" });
    box.append(D.element("strong", {}, D.t("legend")));
    const list = D.element("ul", {});
    const low = target.target - target.amber_margin;
    [
      ["green", `≥ ${D.fmt(target.target)} %: ${D.t("bandGreen")}`],
      ["amber", `${D.fmt(low)} – < ${D.fmt(target.target)} %: ${D.t("bandAmber")}`],
      ["red", `< ${D.fmt(low)} %: ${D.t("bandRed")}`],
      ["none", D.t("bandNone")],
    ].forEach(([band, text]) => {
      const item = D.element("li", { "data-band": band });
      item.append(D.element("span", { class: "swatch", style: `background:${C.BAND_COLORS[band]}` }), document.createTextNode(text));
      list.append(item);
    });
    box.append(list, D.element("p", { class: "hint" }, D.t("mapHint")));
    return box;
  }

  const describe = (D, u) => `${u.name}: ${D.pct(u.rate)} (${D.fmt(u.examined)}/${D.fmt(u.invited)}) – ${D.t("previousShort")} ${D.pct(u.previous_rate)}`;

  function cards(D, summary, map, comparison) {
    const c = summary.cadres;
    $("total-cadres").textContent = D.fmt(D.shown(c, "total"));
    $("active-cadres").textContent = D.fmt(D.shown(c, "active"));
    $("retired-cadres").textContent = D.fmt(D.shown(c, "retired"));
    $("as-of").textContent = `${D.t("asOf")} ${D.dmy(c.as_of)}`;
    const figures = Object.fromEntries(comparison.figures.map((f) => [f.key, f]));
    const cmp = (key, rate) => {
      const f = figures[key];
      return `${D.t("previousShort")}: ${rate ? D.pct(f.previous) : D.fmt(f.previous)} (${D.signed(f.change, rate ? " " + D.t("points") : "")})`;
    };
    $("cmp-cadres").textContent = cmp("cadres");
    $("cmp-active").textContent = cmp("active");
    $("cmp-retired").textContent = cmp("retired");
    $("coverage-rate").textContent = D.pct(map.unit.rate);
    $("coverage-card").className = "card" + (map.unit.band ? " band-" + map.unit.band : "");
    $("coverage-target").textContent = `${D.t("target")} ≥ ${D.fmt(map.target.target)} %`;
    $("cmp-coverage").textContent = cmp("coverage_rate", true);
  }

  function mapAndUnits(D, map) {
    const drillable = (u) => u.level !== "commune";
    const units = map.children.length ? map.children : [map.unit];
    C.map($("map"), units, {
      nation: map.unit.level === "nation", fmt: D.fmt, describe: (u) => describe(D, u), empty: D.empty,
      onPick: map.children.length ? (u) => D.drill(u.path, u.name, u.level) : null, legend: () => legend(D, map.target),
    });
    const missing = units.filter((u) => u.latitude === null || u.latitude === undefined).length;
    if (missing && units.length > missing) $("map").append(D.element("p", { class: "hint" }, `${D.fmt(missing)} ${D.t("unitCol").toLowerCase()} ${D.t("notPlaced")}`));
    C.bars($("chart-coverage"), map.children.map((u) => ({
      label: u.name, value: u.rate, color: C.BAND_COLORS[u.band || "none"], tip: describe(D, u), previous: u.previous_rate,
      previousTip: `${u.name} – ${D.t("previousShort")}: ${D.pct(u.previous_rate)}`,
      onClick: drillable(u) ? () => D.drill(u.path, u.name, u.level) : null,
    })), { max: 100, fmt: D.fmt, suffix: " %", target: map.target.target, empty: D.empty });
    D.table("table-units", [D.t("unitCol"), D.t("invited"), D.t("examined"), D.t("rate"), D.t("previousPeriod"), D.t("changeCol")],
      map.children.map((u) => {
        let name = u.name;
        if (drillable(u)) {
          name = D.element("button", { type: "button", class: "drill", "data-path": u.path }, u.name);
          name.addEventListener("click", () => D.drill(u.path, u.name, u.level));
        }
        return [name, D.fmt(u.invited), D.fmt(u.examined), D.badge(u.band, D.pct(u.rate)), D.pct(u.previous_rate), D.signed(u.change, " " + D.t("points"))];
      }));
  }

  function comparisonTable(D, comparison) {
    const byKey = Object.fromEntries(comparison.figures.map((f) => [f.key, f]));
    D.table("table-compare", [D.t("figure"), D.t("thisPeriod"), D.t("previousPeriod"), D.t("changeCol")],
      COMPARED.filter((k) => byKey[k]).map((k) => {
        const f = byKey[k], rate = k === "coverage_rate";
        const value = rate ? D.pct : D.fmt;
        return [D.t(k), value(f.current), value(f.previous), D.signed(f.change, rate ? " " + D.t("points") : "")];
      }));
  }

  function facilities(D, f) {
    $("facilities-note").textContent = D.t("facilitiesNote").replace("{n}", D.fmt(f.silent_after_days));
    D.table("table-facilities", [D.t("facility"), D.t("lastPosted"), D.t("daysSilent"), ...f.months.map(D.monthLabel), D.t("status")],
      f.rows.map((r) => [r.facility, D.dmy(r.last_record_on), D.fmt(r.days_silent), ...r.months.map((m) => D.fmt(m.encounters)),
        D.badge(r.silent ? "red" : "green", r.silent ? D.t("silent") : D.t("sending"))]));
  }

  function lists(D, notExamined, abnormal) {
    const note = (list) => D.t("shownOf").replace("{total}", D.fmt(list.total)).replace("{shown}", D.fmt(list.rows.length));
    $("total-not-examined").textContent = note(notExamined);
    D.table("table-not-examined", [D.t("cadreId"), D.t("unitCol"), D.t("tier"), D.t("status"), D.t("invitedOn"), D.t("invitation")],
      notExamined.rows.map((r) => [D.element("span", { class: "id", title: r.cadre_id }, r.cadre_id.slice(0, 8)), r.unit_name, D.t(r.tier), D.t(r.status),
        D.dmy(r.invited_on), r.invitation_status ? D.t(r.invitation_status === "invited" ? "invited_status" : r.invitation_status) : "–"]));
    $("total-abnormal").textContent = note(abnormal);
    D.table("table-abnormal", [D.t("cadreId"), D.t("unitCol"), D.t("tier"), D.t("kind"), D.t("day"), D.t("classCol"), D.t("followUp"), D.t("facility"), D.t("waiting")],
      abnormal.rows.map((r) => [D.element("span", { class: "id", title: r.cadre_id }, r.cadre_id.slice(0, 8)), r.unit_name, D.t(r.tier), D.t(r.kind),
        D.dmy(r.occurred_on), r.classification || "–", r.needs_follow_up ? D.t("yes") : D.t("no"), r.facility, D.fmt(r.days_waiting)]));
  }

  function summaryTables(D, d) {
    const c = d.cadres;
    const classColors = { A: "#2e7d32", B1: "#8fbf3f", B2: "#f2a900", C: "#d9622b", D: "#c62828" };
    C.bars($("chart-classification"), d.classification.has_data ? d.classification.rows.map((r) => ({
      label: `${r.code} – ${document.documentElement.lang === "vi" ? r.label_vi : r.label_en}`, value: r.count, color: classColors[r.code],
      tip: `${r.code}: ${D.fmt(r.count)} (${D.pct(r.share)})`,
    })) : [], { fmt: D.fmt, empty: D.empty });
    const series = [["outpatient_visits", "#8b1c1c"], ["admissions", "#1f6f8b"], ["referrals", "#d98e04"], ["home_visits", "#3b8b3b"], ["periodic_exams", "#6d4c9f"]]
      .map(([key, color]) => ({ key, color, label: D.t(key) }));
    C.lines($("chart-monthly"), d.monthly, series, { fmt: D.fmt, monthLabel: D.monthLabel, empty: D.empty });
    const tiers = {};
    c.rows.forEach((r) => { (tiers[r.tier] ||= { active: 0, retired: 0 })[r.status] = D.shown(r, "count"); });
    D.table("table-cadres", [D.t("tier"), D.t("active"), D.t("retired"), D.t("total")],
      Object.entries(tiers).map(([tier, v]) => [D.t(tier), D.fmt(v.active), D.fmt(v.retired), D.fmt(D.sumShown(v.active, v.retired))])
        .concat(c.rows.length ? [[D.t("total"), D.fmt(D.shown(c, "active")), D.fmt(D.shown(c, "retired")), D.fmt(D.shown(c, "total"))]] : []));
    D.table("table-coverage", [D.t("plan"), D.t("tier"), D.t("status"), D.t("invited"), D.t("examined"), D.t("rate")],
      d.coverage.by_group.map((r) => [r.plan_title || r.plan_id, D.t(r.tier), r.status ? D.t(r.status) : "–", D.fmt(D.shown(r, "invited")), D.fmt(D.shown(r, "examined")), D.pct(r.rate)]));
    const a = d.activity;
    D.table("table-activity", [D.t("activity"), D.t("count")], a.has_data ? ["periodic_exams", "outpatient_visits", "admissions", "referrals_higher_level", "referrals_in_province", "referrals_abroad", "home_visits", "consultations"].map((k) => [D.t(k), D.fmt(D.shown(a, k))]) : []);
    D.table("table-chronic", [D.t("condition"), D.t("people"), D.t("prevalence")], d.chronic.has_data ? d.chronic.rows.map((r) => [document.documentElement.lang === "vi" ? r.label_vi : r.label_en, D.fmt(r.cadres), D.pct(r.prevalence)]) : []);
  }

  function render(all) {
    const D = window.CadreDashboard;
    const { summary, map, comparison, notExamined, abnormal } = all;
    if (!summary.has_data) $("message").textContent = summary.message;
    $("period-note").textContent = `${D.t("period")}: ${D.dmy(map.period_start)} – ${D.dmy(map.period_end)} · ${D.t("comparedWith")} ${D.dmy(map.previous_start)} – ${D.dmy(map.previous_end)}`;
    crumbs(D, map);
    cards(D, summary, map, comparison);
    mapAndUnits(D, map);
    comparisonTable(D, comparison);
    facilities(D, all.facilities);
    lists(D, notExamined, abnormal);
    summaryTables(D, summary);
  }

  return { render };
})();
