"""Small-cell suppression: the one rule every figure an aggregate-only caller can reach goes through (the
dashboard, the board report in every format, issued reports, the national roll-up). No I/O.

A count resting on 1 .. min_cell_size-1 cadres is hidden (primary). Every printed total is a linear
relation `total = sum(parts)`; a relation with exactly one hidden member would give it back by
subtraction, so the smallest other non-zero shown member is hidden too (complementary), until no
relation has exactly one hidden member. Zeros are shown: they identify nobody.

Fields that may be None (classification, chronic conditions, convalescence) are hidden as None; the
required integer fields of the API are hidden as 0 and named in the model's `suppressed` list (the API
stays compatible; every renderer reads that list), so a hidden 0 is never taken for a fact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel

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

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class RawCell:
    value: int
    cadres: int  # distinct cadres behind the value: what decides primary suppression


def hidden_keys(cells: Mapping[K, RawCell], groups: Sequence[tuple[K, Sequence[K]]], min_cadres: int) -> set[K]:
    """The cells to hide: primary (1..min_cadres-1 cadres), then complementary within every (total, parts)."""
    hidden = {key for key, cell in cells.items() if 0 < cell.cadres < min_cadres}
    changed = True
    while changed:
        changed = False
        for total_key, parts in groups:
            if total_key not in cells:
                continue  # a total printed nowhere: the parts alone give nothing away
            members = [p for p in parts if p in cells]
            if sum(1 for m in (total_key, *members) if m in hidden) != 1:
                continue
            candidates = [p for p in members if p not in hidden and cells[p].value != 0]
            if candidates:
                hidden.add(min(candidates, key=lambda p: abs(cells[p].value)))
            elif total_key not in hidden:
                hidden.add(total_key)  # every other part is zero: the total would be the hidden part
            else:
                continue
            changed = True
    return hidden


def suppress(cells: Mapping[K, RawCell], groups: Sequence[tuple[K, Sequence[K]]], min_cadres: int) -> dict[K, Cell]:
    """The cells as the roll-up shows them: a hidden cell has no value and says it is suppressed."""
    hidden = hidden_keys(cells, groups, min_cadres)
    return {key: Cell(value=None, suppressed=True) if key in hidden else Cell(value=cell.value) for key, cell in cells.items()}


# --- figure sets: the API's sections as cells and relations -----------------------------------------

Hide = Callable[[], None]


@dataclass
class FigureSet:
    """Cells keyed by name with what hiding each does to the models, and the relations between them."""

    cells: dict[str, RawCell] = field(default_factory=dict)
    groups: list[tuple[str, list[str]]] = field(default_factory=list)
    on_hidden: dict[str, list[Hide]] = field(default_factory=lambda: defaultdict(list))

    def count(self, key: str, value: int, *hides: Hide, cadres: int | None = None) -> str:
        self.cells[key] = RawCell(value, value if cadres is None else cadres)
        self.on_hidden[key].extend(hides)
        return key

    def also(self, key: str, *hides: Hide) -> None:
        """More places that print the cell `key` (already counted)."""
        self.on_hidden[key].extend(hides)

    def relation(self, total: str, parts: Iterable[str]) -> None:
        self.groups.append((total, list(parts)))

    def apply(self, min_cadres: int) -> set[str]:
        hidden = hidden_keys(self.cells, self.groups, min_cadres)
        for key in sorted(hidden):
            for hide in self.on_hidden.get(key, []):
                hide()
        return hidden


def zeroed(model: BaseModel, name: str) -> Hide:
    """Hide a required integer field: 0, named in the model's `suppressed` list."""

    def hide() -> None:
        setattr(model, name, 0)
        hidden: list[str] = getattr(model, "suppressed")  # noqa: B009 - every model given here has the list
        if name not in hidden:
            hidden.append(name)

    return hide


def nulled(model: BaseModel, *names: str) -> Hide:
    """Hide optional fields (a count and the rate drawn from it): None."""

    def hide() -> None:
        for name in names:
            setattr(model, name, None)

    return hide


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
