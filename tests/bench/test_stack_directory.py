"""A bench's stack directory: only the logs stay after a run that ends well; everything stays after a failure."""

from pathlib import Path

import pytest

from bench.common import stack_directory


def fill(directory: Path) -> None:
    (directory / "logs").mkdir()
    (directory / "logs" / "clinical.log").write_text("started\n")
    (directory / "clinical.db").write_bytes(b"\0" * 1024)
    (directory / "gateway").mkdir()
    (directory / "gateway" / "principals.json").write_text("{}")


def test_a_run_that_ends_well_leaves_only_its_logs(tmp_path: Path) -> None:
    with stack_directory("bench-", tmp_path) as directory:
        fill(directory)
    assert sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*")) == ["logs", "logs/clinical.log"]


def test_a_failed_run_leaves_everything(tmp_path: Path) -> None:
    def failing_run() -> None:
        with stack_directory("bench-", tmp_path) as directory:
            fill(directory)
            raise RuntimeError("the stack did not start")

    with pytest.raises(RuntimeError):
        failing_run()
    [directory] = tmp_path.iterdir()
    assert (directory / "clinical.db").exists()
    assert (directory / "gateway" / "principals.json").exists()
