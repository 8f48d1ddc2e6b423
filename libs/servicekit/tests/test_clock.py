"""The one clock: Vietnam's date, not UTC's, and replaceable in tests."""

from datetime import UTC, date, datetime

from servicekit import clock


def test_between_midnight_and_seven_vietnam_is_already_on_the_next_day() -> None:
    late_utc = datetime(2026, 6, 30, 18, 30, tzinfo=UTC)  # 01:30 on 1 July in Hà Nội
    with clock.frozen_at(late_utc):
        assert clock.today() == date(2026, 7, 1)
        assert late_utc.date() == date(2026, 6, 30)
        assert clock.now() == late_utc


def test_the_same_day_after_seven() -> None:
    with clock.frozen_at(datetime(2026, 6, 30, 10, 0, tzinfo=UTC)):
        assert clock.today() == date(2026, 6, 30)


def test_a_naive_instant_is_read_as_utc_and_the_system_clock_comes_back() -> None:
    assert clock.vietnam_date(datetime(2026, 1, 1, 17, 0)) == date(2026, 1, 2)
    with clock.frozen_at(lambda: datetime(2000, 1, 1, tzinfo=UTC)):
        assert clock.today() == date(2000, 1, 1)
    assert clock.now().year >= 2026
