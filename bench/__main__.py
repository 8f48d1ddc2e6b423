"""`python -m bench [name ...]`: run every benchmark module (bench/bench_<name>.py), or only the named ones.

Each module exposes `main() -> None`, prints its figures (ratios against a baseline measured in the
same run where it can), records each goal it measures (`bench.common.record_goal`) and cleans up after
itself, even when it fails. The machine is shared and noisy: compare ratios. At the end one table lists
every goal: measure, goal, figure, ratio, met or not; a bench that failed is listed as failed.
"""

import importlib
import pkgutil
import signal
import sys
import time
import traceback
from pathlib import Path
from types import FrameType

from bench.common import GOALS, GoalFigure, summary_table


def available() -> list[str]:
    modules = pkgutil.iter_modules([str(Path(__file__).parent)])
    return sorted(m.name.removeprefix("bench_") for m in modules if m.name.startswith("bench_"))


def stop_on_sigterm() -> None:
    """SIGTERM (`timeout`, a CI runner giving up) ends the run as Ctrl-C does: by an exception, so that every
    bench's cleanup runs and the stack, broker and PostgreSQL it started are stopped. Python's default for
    SIGTERM is to die at once, leaving them running."""

    def interrupted(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt("SIGTERM")

    signal.signal(signal.SIGTERM, interrupted)


def main(argv: list[str]) -> int:
    stop_on_sigterm()
    names = argv or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(f"unknown benchmarks {unknown}; available: {available()}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        print(f"\n=== bench {name} ===", flush=True)
        started = time.monotonic()
        try:
            importlib.import_module(f"bench.bench_{name}").main()
        except Exception:  # noqa: BLE001 - one failing bench must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
            GOALS.append(GoalFigure(name, "(bench failed: see its traceback above)", "", "", met=False))
        print(f"--- {name} took {time.monotonic() - started:.1f}s", flush=True)
    print("\n=== summary ===")
    print(summary_table(GOALS))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
