"""`python -m bench [name ...]`: run every benchmark module (bench/bench_<name>.py), or only the named ones.

Each module exposes `main() -> None`, prints its figures (ratios against a baseline measured in the
same run where it can), and cleans up after itself. The machine is shared and noisy: compare ratios.
"""

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def available() -> list[str]:
    modules = pkgutil.iter_modules([str(Path(__file__).parent)])
    return sorted(m.name.removeprefix("bench_") for m in modules if m.name.startswith("bench_"))


def main(argv: list[str]) -> int:
    names = argv or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(f"unknown benchmarks {unknown}; available: {available()}", file=sys.stderr)
        return 2
    for name in names:
        print(f"\n=== bench {name} ===", flush=True)
        started = time.monotonic()
        importlib.import_module(f"bench.bench_{name}").main()
        print(f"--- {name} took {time.monotonic() - started:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
