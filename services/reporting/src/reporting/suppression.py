"""Reporting's figures for the one suppression rule (`servicekit.suppression`): the sections the dashboard
and the board report share (live and issued, in every format), the cadre counts and the roll-up's cells,
described as cells and relations. No I/O.

Fields that may be None (classification, chronic conditions, convalescence) are hidden as None; the
required integer fields are hidden as 0 and named in the model's `suppressed` list (every renderer reads it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

from contracts.api.reporting import (
    ActivityCounts,
    ArithmeticCheck,
    BoardReport,
    CadreCountReport,
    CadreCountSection,
    Cell,
    ChronicSection,
    ClassificationRow,
    ClassificationSection,
    ConvalescenceSection,
    CoverageSection,
    DashboardSummary,
    ExamCoverageRow,
    MonthlyPoint,
)
from servicekit.suppression import FigureSet, RawCell, hidden_keys, nulled, zeroed

__all__ = ["RawCell", "hidden_keys", "suppress", "suppressed_cadre_counts", "suppressed_dashboard", "suppressed_report"]

K = TypeVar("K", bound=Hashable)


def suppress(cells: Mapping[K, RawCell], groups: Sequence[tuple[K, Sequence[K]]], min_cadres: int) -> dict[K, Cell]:
    """The cells as the roll-up shows them: a hidden cell has no value and says it is suppressed."""
    hidden = hidden_keys(cells, groups, min_cadres)
    return {key: Cell(value=None, suppressed=True) if key in hidden else Cell(value=cell.value) for key, cell in cells.items()}


def _cadres(figures: FigureSet, c: CadreCountSection) -> None:
    total = figures.count("cadres.total", c.total, zeroed(c, "total"))
    figures.count("cadres.active", c.active, zeroed(c, "active"))
    figures.count("cadres.retired", c.retired, zeroed(c, "retired"))
    figures.relation(total, ["cadres.active", "cadres.retired"])
    then = figures.count("cadres.total_then", c.total_then, zeroed(c, "total_then"))
    change = figures.count("cadres.change", c.change, zeroed(c, "change"), cadres=0)  # a difference, not people
    figures.relation(total, [then, change])
    figures.also(total, zeroed(c, "change"))  # a difference of hidden counts tells nothing worth its risk
    figures.also(then, zeroed(c, "change"))
    tiers: dict[str, list[str]] = defaultdict(list)
    by_status: dict[str, list[str]] = defaultdict(list)
    for row in c.rows:
        key = figures.count(f"cadres.{row.tier.value}.{row.status.value}", row.count, zeroed(row, "count"))
        tiers[row.tier.value].append(key)
        by_status[row.status.value].append(key)
    for status, keys in by_status.items():
        figures.relation(f"cadres.{status}", keys)
    for tier, keys in tiers.items():  # the tier totals the tables print (active + retired)
        figures.count(f"cadres.{tier}", sum(figures.cells[k].value for k in keys))
        figures.relation(f"cadres.{tier}", keys)
    figures.relation(total, [f"cadres.{tier}" for tier in tiers])


def _coverage_row(figures: FigureSet, key: str, row: ExamCoverageRow) -> tuple[str, str]:
    rate_gone = nulled(row, "rate")
    invited = figures.count(f"{key}.invited", row.invited, zeroed(row, "invited"), rate_gone)
    examined = figures.count(f"{key}.examined", row.examined, zeroed(row, "examined"), rate_gone)
    return invited, examined


def _coverage(figures: FigureSet, cov: CoverageSection) -> None:
    plans = {row.plan_id: _coverage_row(figures, f"cov.plan.{row.plan_id}", row) for row in cov.by_plan}
    for name, rows in (("round", cov.by_round), ("group", cov.by_group), ("unit", cov.by_unit)):
        keyed = [(row.plan_id, _coverage_row(figures, f"cov.{name}.{i}", row)) for i, row in enumerate(rows)]
        for plan_id, (plan_invited, plan_examined) in plans.items():
            figures.relation(plan_invited, [inv for p, (inv, _) in keyed if p == plan_id])
            figures.relation(plan_examined, [exa for p, (_, exa) in keyed if p == plan_id])


def _classification_table(figures: FigureSet, prefix: str, rows: list[ClassificationRow]) -> list[str]:
    keys = [figures.count(f"{prefix}.{row.code}", row.count or 0, nulled(row, "count", "share")) for row in rows]
    figures.also(prefix, *(nulled(row, "share") for row in rows))  # shares give the table's total away
    figures.relation(prefix, keys)
    return keys


def _classification(figures: FigureSet, cl: ClassificationSection) -> None:
    figures.count("cls", cl.total, zeroed(cl, "total"))
    _classification_table(figures, "cls", cl.rows)
    by_code: dict[str, list[str]] = defaultdict(list)
    for tier, rows in cl.by_tier.items():
        figures.count(f"cls.{tier}", sum(r.count or 0 for r in rows))
        for key in _classification_table(figures, f"cls.{tier}", rows):
            by_code[key.rpartition(".")[2]].append(key)
    figures.relation("cls", [f"cls.{tier}" for tier in cl.by_tier])
    for code, keys in by_code.items():
        figures.relation(f"cls.{code}", keys)


ACTIVITY_FIELDS = ("periodic_exams", "outpatient_visits", "admissions", "home_visits", "consultations")
REFERRAL_FIELDS = ("referrals_higher_level", "referrals_in_province", "referrals_abroad")


def _activity(figures: FigureSet, a: ActivityCounts, monthly: Sequence[MonthlyPoint]) -> None:
    for name in (*ACTIVITY_FIELDS, *REFERRAL_FIELDS, "referrals_total"):
        figures.count(f"act.{name}", int(getattr(a, name)), zeroed(a, name))
    figures.relation("act.referrals_total", [f"act.{name}" for name in REFERRAL_FIELDS])
    for name, total in (*((n, n) for n in ACTIVITY_FIELDS), ("referrals", "referrals_total")):
        months = [figures.count(f"mon.{p.month}.{name}", int(getattr(p, name)), zeroed(p, name)) for p in monthly]
        if months:
            figures.relation(f"act.{total}", months)


def _chronic(figures: FigureSet, ch: ChronicSection) -> None:
    figures.also("cadres.total", zeroed(ch, "population"), *(nulled(r, "prevalence") for r in ch.rows))
    for row in ch.rows:
        figures.count(f"chr.{row.group}", row.cadres or 0, nulled(row, "cadres", "prevalence"))
    buckets = [figures.count(f"chr.n.{b.conditions}", b.cadres or 0, nulled(b, "cadres")) for b in ch.comorbidity]
    figures.count("chr.any", sum(figures.cells[k].value for k in buckets))
    figures.relation("chr.any", buckets)


def suppress_sections(
    min_cadres: int,
    cadres: CadreCountSection,
    coverage: CoverageSection,
    classification: ClassificationSection,
    activity: ActivityCounts,
    chronic: ChronicSection,
    monthly: Sequence[MonthlyPoint] = (),
    convalescence: ConvalescenceSection | None = None,
) -> set[str]:
    """Hide, in place, every figure of the sections the dashboard and the board report share; the keys hidden."""
    figures = FigureSet()
    _cadres(figures, cadres)
    _coverage(figures, coverage)
    _classification(figures, classification)
    _activity(figures, activity, monthly)
    _chronic(figures, chronic)
    if convalescence is not None:
        for name in ("registered", "eligible"):
            value = getattr(convalescence, name)
            if value is not None:
                figures.count(f"conv.{name}", value, nulled(convalescence, name))
    return figures.apply(min_cadres)


def redacted_check(c: ArithmeticCheck) -> ArithmeticCheck:
    """A check as an aggregate-only caller sees it: what it checked and whether it held, not the numbers
    (its parts are the exact cells the tables hide)."""
    return c.model_copy(update={"total": 0, "parts": {}, "parts_sum": 0, "suppressed": ["total", "parts", "parts_sum"]})


def suppressed_dashboard(summary: DashboardSummary, min_cadres: int) -> DashboardSummary:
    shown = summary.model_copy(deep=True)
    suppress_sections(
        min_cadres, shown.cadres, shown.coverage, shown.classification, shown.activity, shown.chronic, shown.monthly
    )
    return shown


def suppressed_report(report: BoardReport, min_cadres: int) -> BoardReport:
    """The board report (live or issued) for an aggregate-only caller; suppressing it twice changes nothing more."""
    shown = report.model_copy(deep=True)
    if report.aggregate_only:
        return shown
    suppress_sections(
        min_cadres,
        shown.cadres,
        shown.coverage,
        shown.classification,
        shown.activity,
        shown.chronic,
        convalescence=shown.convalescence,
    )
    shown.checks = [redacted_check(c) for c in shown.checks]
    shown.aggregate_only, shown.min_cell_size = True, min_cadres
    return shown


def suppressed_cadre_counts(counts: CadreCountReport, min_cadres: int) -> CadreCountReport:
    """The registry's latest counts by tier and status for an aggregate-only caller."""
    shown = counts.model_copy(deep=True)
    figures = FigureSet()
    total = figures.count("total", shown.total, zeroed(shown, "total"))
    rows = [figures.count(f"{r.tier.value}.{r.status.value}", r.count, zeroed(r, "count")) for r in shown.rows]
    figures.relation(total, rows)
    figures.apply(min_cadres)
    return shown
