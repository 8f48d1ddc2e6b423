import random
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

T = TypeVar("T")


def eventually(check: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout}s (last: {result!r})")
        time.sleep(interval)


def new_cadre(unit: str = "VN.68.672", tier: str = "district") -> dict[str, object]:
    return {
        "full_name": "Lê Văn Thử",
        "date_of_birth": "1960-01-15",
        "sex": "male",
        "national_id": f"068060{random.randrange(10**6):06d}",
        "tier": tier,
        "managing_unit": unit,
        "status": "retired",
        "status_since": "2020-01-01",  # a district-tier cadre is registered on a date the district tier existed
    }


def reported_total(client: httpx.Client, unit: str) -> int:
    answer = client.get("/api/v1/reporting/cadre-counts", params={"unit": unit})
    answer.raise_for_status()
    total: int = answer.json()["total"]
    return total
