"""A body's canonical JSON is the text `json.dumps` wrote when the stored hashes were made, whatever the writer."""

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from clinical import domain

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)  # beyond 64 bits too
    | st.floats(allow_nan=False, allow_infinity=False)  # tiny floats are where writers differ
    | st.text()  # control characters, non-BMP, lone surrogates
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20
)
BODIES = st.dictionaries(st.text(), VALUES, max_size=8)


def reference(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@settings(max_examples=400, deadline=None)
@given(BODIES)
def test_canonical_json_is_the_text_json_dumps_writes(body: dict[str, Any]) -> None:
    assert domain.canonical_json(body) == reference(body)


def test_the_floats_where_writers_differ_and_a_vietnamese_body() -> None:
    for value in (1e-05, 0.00009, 3.2853850633020683e-07, 1e-4, 1e16, 1.5e16, 1e15, -0.0, 5e-324, 62.5):
        body = {"value": value, "list": [value, {"x": value}]}
        assert domain.canonical_json(body) == reference(body)
    body = {"kết luận": "Sức khỏe loại B1", "đ": [1, 2.5], "a\u2028": '\x00\x1f\x7f"\\', "🩺": None}
    assert domain.canonical_json(body) == reference(body)
