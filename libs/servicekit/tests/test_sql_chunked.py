"""`servicekit.sql.chunked`: every item once, in order, in slices no longer than asked."""

from servicekit.sql import chunked


def test_slices_keep_every_item_in_order_within_the_size() -> None:
    items = list(range(2_501))
    slices = list(chunked(items, 1_000))
    assert [len(s) for s in slices] == [1_000, 1_000, 501]
    assert [i for s in slices for i in s] == items


def test_nothing_gives_no_slice() -> None:
    assert list(chunked([])) == []
