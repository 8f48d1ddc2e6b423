"""What several benchmarks share, and the goals they measure (printed as one table by `python -m bench`)."""

import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class GoalFigure:
    """One measured figure against its goal; `ratio` is against a baseline measured in the same run."""

    bench: str
    measure: str
    goal: str
    figure: str
    met: bool
    ratio: str = ""


GOALS: list[GoalFigure] = []

# The gateway limits each principal to 100 requests/s (burst 1,000) by default: a policy, not the stack's
# capacity. A bench that drives the stack from one token as fast as it goes turns the limiter off, or it
# measures the limiter (bench clinical's single POSTs reached exactly 100/s + the burst, and a third failed).
CAPACITY_ENV = {"GATEWAY_RATE_PER_SECOND": "0"}


@contextmanager
def stack_directory(prefix: str, parent: Path | None = None) -> Iterator[Path]:
    """A bench's stack directory under /tmp. Kept whole when the bench fails: its databases and logs tell why.
    After a run that ends well only its logs stay: the databases of one `bench clinical` are some 300 MiB."""
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield directory
    except BaseException:
        print(f"stack directory kept: {directory}", flush=True)
        raise
    for entry in directory.iterdir():
        if entry.name == "logs":
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    if (directory / "logs").is_dir():
        print(f"the services' logs: {directory / 'logs'}", flush=True)


def record_goal(bench: str, measure: str, goal: str, figure: str, *, met: bool, ratio: str = "") -> None:
    """Note a figure for the summary table `python -m bench` prints once every benchmark has run."""
    GOALS.append(GoalFigure(bench, measure, goal, figure, met, ratio))
    print(f"  [{'met' if met else 'NOT met'}] {measure}: {figure} (goal {goal}){f'; {ratio}' if ratio else ''}", flush=True)


def summary_table(goals: list[GoalFigure]) -> str:
    """The goals as a plain-text table: bench, measure, goal, figure, ratio, met or not."""
    header = ("bench", "measure", "goal", "figure", "ratio", "met")
    rows = [header, *((g.bench, g.measure, g.goal, g.figure, g.ratio, "yes" if g.met else "NO") for g in goals)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile by nearest rank (p in 0..100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def timed(samples: int, call: Callable[[int], Awaitable[httpx.Response]]) -> list[float]:
    """Seconds each of `samples` calls took (call i gets i); every answer must be a success."""
    durations = []
    for i in range(samples):
        started = time.perf_counter()
        answer = await call(i)
        durations.append(time.perf_counter() - started)
        assert answer.status_code < 300, answer.text[:300]
    return durations
