"""The gateway's rules without I/O (gateway.domain): grants in force, handing out grants, following
reorganisations, and the audit hash chain."""

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import roles
from contracts.enums import Action, ManagementTier
from contracts.scope import Grant, Principal, PrincipalKind
from gateway.domain import (
    CHAINED_FIELDS,
    GENESIS_HASH,
    GrantTerms,
    grants_in_force,
    home_unit,
    may_hand_out,
    record_hash,
    remap_unit,
    verify_chain,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DISTRICT = frozenset({ManagementTier.DISTRICT})
READ = frozenset({Action.READ})


def test_grants_in_force_respect_validity_and_revocation_and_merge_actions() -> None:
    rows = [
        GrantTerms("VN.68.672", DISTRICT, READ),
        GrantTerms("VN.68.672", DISTRICT, frozenset({Action.WRITE})),
        GrantTerms("VN.68.673", DISTRICT, READ, valid_from=NOW + timedelta(days=1)),
        GrantTerms("VN.68.674", DISTRICT, READ, valid_to=NOW),
        GrantTerms("VN.68.675", DISTRICT, READ, revoked_at=NOW - timedelta(seconds=1)),
    ]
    assert grants_in_force(rows, NOW) == (
        Grant(unit_path="VN.68.672", tiers=DISTRICT, actions=frozenset(Action) - {Action.AGGREGATE}),
    )


def test_an_administrator_hands_out_only_what_it_holds() -> None:
    provincial_admin = Principal(subject="user:a", kind=PrincipalKind.ADMIN, grants=roles.provincial_board("VN.68"))
    assert may_hand_out(provincial_admin, "VN.68.672", [ManagementTier.DISTRICT], [Action.READ])
    assert not may_hand_out(provincial_admin, "VN.68.672", [ManagementTier.DISTRICT], [Action.WRITE])  # it only reads them
    assert not may_hand_out(provincial_admin, "VN.56", [ManagementTier.PROVINCIAL_1], [Action.READ])
    assert not may_hand_out(provincial_admin, "VN", [ManagementTier.PROVINCIAL_1], [Action.READ])


def test_remap_follows_the_deepest_mapped_unit() -> None:
    mapping = {"VN.68.674": ["VN.68.672"], "VN.68.674.24900": ["VN.68.672.24778"], "VN.62": ["VN.68", "VN.66"]}
    assert remap_unit("VN.68.674", mapping) == ["VN.68.672"]
    assert remap_unit("VN.68.674.24800", mapping) == ["VN.68.672.24800"]
    assert remap_unit("VN.68.674.24900", mapping) == ["VN.68.672.24778"]
    assert remap_unit("VN.62.610", mapping) == ["VN.68.610", "VN.66.610"]  # split: the grant goes to every successor
    assert remap_unit("VN.68.6740", mapping) is None  # a prefix of characters is not a parent unit
    assert remap_unit("VN.68", mapping) is None


def test_home_unit_is_the_broadest_grant() -> None:
    assert home_unit(roles.provincial_board("VN.68")) == "VN.68"
    assert home_unit(()) is None


def _chain(count: int) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    previous = GENESIS_HASH
    for seq in range(1, count + 1):
        record: dict[str, object] = {
            "seq": seq,
            "at": NOW + timedelta(seconds=seq),
            "actor": "user:dalat",
            "operation": "registry:GET /cadres",
            "subjects": [f"id-{seq}"],
            "status_code": 200,
            "prev_hash": previous,
        }
        record["hash"] = previous = record_hash(record)
        records.append(record)
    return records


def test_the_chain_detects_alteration_removal_and_reordering() -> None:
    records = _chain(5)
    head = {"head_seq": 5, "head_hash": records[-1]["hash"], "anchor_seq": 0, "anchor_hash": GENESIS_HASH}
    assert verify_chain(records, **head).valid  # type: ignore[arg-type]

    altered = [dict(r) for r in records]
    altered[2]["subjects"] = ["someone-else"]
    assert verify_chain(altered, **head).first_broken_seq == 3  # type: ignore[arg-type]

    assert verify_chain(records[:2] + records[3:], **head).first_broken_seq == 3  # type: ignore[arg-type]
    assert not verify_chain([records[0], records[2], records[1], *records[3:]], **head).valid  # type: ignore[arg-type]
    assert verify_chain(records[:4], **head).problem == "records after the last one found are missing"  # type: ignore[arg-type]

    rehashed = [dict(r) for r in records]  # altering a record and re-hashing it still breaks the next link
    rehashed[1]["actor"] = "user:admin"
    rehashed[1]["hash"] = record_hash(rehashed[1])
    assert verify_chain(rehashed, **head).first_broken_seq == 3  # type: ignore[arg-type]


def _as_first_chained(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [_as_first_chained(v) for v in value] if isinstance(value, list) else value


def _hash_as_first_chained(fields: dict[str, object]) -> str:
    """The hash every stored chain was made with: the standard library's JSON, written out here on purpose."""
    content = {name: _as_first_chained(fields.get(name)) for name in CHAINED_FIELDS}
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)  # any code point but a lone surrogate


@settings(max_examples=400, deadline=None)
@given(
    seq=st.integers(min_value=1, max_value=2**53),
    at=st.datetimes(timezones=st.just(UTC)) | st.datetimes(timezones=st.just(timezone(timedelta(hours=7)))),
    texts=st.fixed_dictionaries(
        {name: st.none() | _TEXT for name in ("actor", "actor_unit", "path", "detail", "correlation_id")}
    ),
    subjects=st.lists(_TEXT, max_size=4),
    status_code=st.integers(min_value=100, max_value=599),
)
def test_the_hash_is_over_the_bytes_every_stored_chain_was_hashed_over(
    seq: int, at: datetime, texts: dict[str, str | None], subjects: list[str], status_code: int
) -> None:
    """Control characters, quotes, backslashes, any plane of Unicode: the same bytes, so old chains still verify."""
    record: dict[str, object] = {"seq": seq, "at": at, "subjects": subjects, "status_code": status_code, **texts}
    record["prev_hash"] = GENESIS_HASH
    assert record_hash(record) == _hash_as_first_chained(record)
