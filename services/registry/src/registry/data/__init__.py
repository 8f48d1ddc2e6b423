"""Reference data shipped with the registry."""

import json
from importlib import resources
from typing import Any


def lam_dong_2025() -> dict[str, Any]:
    """Units of the old Lâm Đồng, Đắk Nông and Bình Thuận, and the 2025-07-01 reorganisation that merged them."""
    data: dict[str, Any] = json.loads((resources.files("registry.data") / "lam_dong_2025.json").read_text(encoding="utf-8"))
    return data
