"""The coverage report as an aggregate-only caller sees it (the one rule: servicekit.suppression). No I/O.

Each row counts invitations (one per cadre and plan) by status: `invited = confirmed + awaiting + attended +
deferred + no_show` and `open = confirmed + awaiting`, where `awaiting` (invited, not yet confirmed) is
printed nowhere but follows from the others. Every column also sums over the rows, and over any other
grouping the reader may ask for (by=round alone, then by=round&by=unit): those marginal totals are
relations too. The rate is hidden with its attended or invited count."""

from functools import partial

from contracts.api.scheduling import CoverageDimension, CoverageReport, CoverageRow
from servicekit.suppression import ALL, FigureSet, Key, add_marginals, no_roll_up, zeroed

D = CoverageDimension
FIELDS = ("invited", "confirmed", "attended", "deferred", "no_show", "open", "cancelled")
ATTRIBUTE = {
    D.ROUND: "round",
    D.GROUP: "group",
    D.UNIT: "unit",
    D.FACILITY: "facility",
    D.TIER: "tier",
    D.STATUS: "cadre_status",
}


def _row_key(row: CoverageRow, by: list[CoverageDimension]) -> Key:
    return tuple(str(getattr(row, ATTRIBUTE[d])) for d in by)


def _name(field: str, key: Key) -> str:
    return f"{field}:" + "=".join(key)


def _total_name(field: str, key: Key) -> str:
    return f"{field}:sum:" + "=".join(key)


def _statuses(figures: FigureSet, name: dict[str, str]) -> None:
    """The relations inside one row (printed or marginal) whose cells are named by field."""
    figures.relation(name["invited"], [name[f] for f in ("confirmed", "awaiting", "attended", "deferred", "no_show")])
    figures.relation(name["open"], [name["confirmed"], name["awaiting"]])


def _printed_row(figures: FigureSet, row: CoverageRow, names: dict[str, str]) -> None:
    for f in FIELDS:
        if names[f] in figures.cells:
            figures.also(names[f], zeroed(row, f))
        else:
            figures.count(names[f], getattr(row, f), zeroed(row, f))
    if names["awaiting"] not in figures.cells:
        figures.count(names["awaiting"], row.open - row.confirmed)
    figures.also(names["invited"], zeroed(row, "rate"))
    figures.also(names["attended"], zeroed(row, "rate"))


def suppressed_coverage(report: CoverageReport, min_cadres: int) -> CoverageReport:
    shown = report.model_copy(deep=True, update={"aggregate_only": True, "min_cell_size": min_cadres})
    figures = FigureSet()
    leaves: dict[str, dict[Key, str]] = {f: {} for f in (*FIELDS, "awaiting")}
    for row in shown.rows:
        key = _row_key(row, shown.by)
        names = {f: _name(f, key) for f in leaves}
        _printed_row(figures, row, names)
        _statuses(figures, names)
        for f, by_key in leaves.items():
            by_key[key] = names[f]
    roll_ups = [no_roll_up] * len(shown.by)
    totals = {f: add_marginals(figures, by_key, roll_ups, partial(_total_name, f)) for f, by_key in leaves.items()}
    for combo in totals["invited"]:
        _statuses(figures, {f: totals[f][combo] for f in leaves})
    everything = (ALL,) * len(shown.by)
    if everything in totals["invited"]:
        total_names = {f: totals[f][everything] for f in leaves}
    elif len(shown.rows) == 1:
        total_names = {f: _name(f, _row_key(shown.rows[0], shown.by)) for f in leaves}  # no grouping: the row is the total
    else:
        total_names = {f: _total_name(f, everything) for f in leaves}  # no rows: a total of zeros
    _printed_row(figures, shown.total, total_names)
    _statuses(figures, total_names)
    figures.apply(min_cadres)
    return shown
