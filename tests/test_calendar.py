from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.model.calendar import WorkingCalendar

START = date(2025, 1, 1)  # a Wednesday
MAY_DAY = [(date(2025, 5, 1), date(2025, 5, 5))]


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar(START, 365, "mon-fri", holidays=MAY_DAY)


def test_hand_checked_may_day_example(cal: WorkingCalendar) -> None:
    t0 = cal.day_of(date(2025, 4, 4))
    assert t0 == 93.0
    assert cal.date_of(t0).weekday() == 4  # Friday
    end = cal.add(t0, 45)
    assert end == cal.day_of(date(2025, 6, 11)) == 161.0
    assert cal.date_of(end - 1e-9) == date(2025, 6, 10)
    assert cal.working_days_between(t0, end) == pytest.approx(45)
    # one working day less and the work ends at the end of Monday 9 June
    assert cal.add(t0, 44) == cal.day_of(date(2025, 6, 10))


def test_holiday_and_weekend_flags(cal: WorkingCalendar) -> None:
    assert not cal.is_working(date(2025, 5, 1))
    assert not cal.is_working(date(2025, 5, 5))  # a Monday inside the holiday
    assert cal.is_working(date(2025, 5, 6))
    assert not cal.is_working(date(2025, 4, 5))  # Saturday
    assert cal.is_working(date(2025, 4, 4))


def test_all_mode_is_identity() -> None:
    c = WorkingCalendar(START, 100, "all")
    for t in (0.0, 0.25, 3.5, 5.0, 99.9, 5000.0):
        assert c.working_time(t) == t
        for wd in (0.0, 0.3, 1.0, 45.0):
            assert c.add(t, wd) == t + wd
    assert c.is_working(date(2025, 1, 4))  # Saturday


def test_all_mode_still_honours_holidays() -> None:
    c = WorkingCalendar(START, 100, "all", holidays=[(date(2025, 1, 2), date(2025, 1, 2))])
    assert c.add(0.0, 2.0) == 3.0


def test_start_inside_weekend_plus_one_day_ends_end_of_monday(cal: WorkingCalendar) -> None:
    sat_noon = cal.day_of(date(2025, 1, 4)) + 0.5
    assert cal.date_of(sat_noon).weekday() == 5
    end = cal.add(sat_noon, 1)
    assert end == cal.day_of(date(2025, 1, 7))  # midnight ending Monday 6 Jan
    assert cal.date_of(end - 1e-9) == date(2025, 1, 6)


def test_fractional_days_within_a_working_day(cal: WorkingCalendar) -> None:
    thu = cal.day_of(date(2025, 1, 2))
    assert cal.add(thu + 0.25, 0.5) == pytest.approx(thu + 0.75)
    assert cal.working_time(thu + 0.25) == pytest.approx(1.25)
    # Friday 0.5 remaining, then weekend, then 0.25 on Monday
    fri = cal.day_of(date(2025, 1, 3))
    assert cal.add(fri + 0.5, 0.75) == pytest.approx(cal.day_of(date(2025, 1, 6)) + 0.25)
    # time inside a non-working day does not count
    sat = cal.day_of(date(2025, 1, 4))
    assert cal.working_days_between(sat, sat + 1.9) == 0.0


def test_extra_working_day_shortens_by_one_day() -> None:
    sun = date(2025, 4, 27)
    assert sun.weekday() == 6
    plain = WorkingCalendar(START, 365, holidays=MAY_DAY)
    makeup = WorkingCalendar(START, 365, holidays=MAY_DAY, extra_working_days=[sun])
    assert makeup.is_working(sun) and not plain.is_working(sun)
    t0 = plain.day_of(date(2025, 4, 4))
    assert plain.add(t0, 45) == plain.day_of(date(2025, 6, 11))
    assert makeup.add(t0, 45) == makeup.day_of(date(2025, 6, 10))
    # work that finishes before the make-up day is unaffected
    assert makeup.add(t0, 10) == plain.add(t0, 10)


def test_add_zero_is_identity(cal: WorkingCalendar) -> None:
    for t in (0.0, 3.5, 93.0, 120.7):
        assert cal.add(t, 0) == t


def test_beyond_precomputed_range_extends() -> None:
    c = WorkingCalendar(START, 10, holidays=MAY_DAY)
    far = c.add(0.0, 5000)  # ~19 years of working days
    assert c.working_time(far) == pytest.approx(5000)
    assert c.is_working(c.date_of(far - 1e-9))
    later = c.day_of(date(2060, 3, 7))  # a Wednesday
    assert c.working_days_between(later, later + 7) == 5


def test_invalid_arguments(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError):
        cal.add(1.0, -1.0)
    with pytest.raises(ValueError):
        cal.working_time(-0.5)
    with pytest.raises(ValueError):
        WorkingCalendar(START, 10, holidays=[(date(2025, 2, 2), date(2025, 2, 1))])
    with pytest.raises(ValueError):
        WorkingCalendar(START, 10, "sun-thu")  # type: ignore[arg-type]


_CAL = WorkingCalendar(
    START, 400, "mon-fri", holidays=MAY_DAY, extra_working_days=[date(2025, 4, 27)]
)
_T = st.floats(min_value=0, max_value=2000, allow_nan=False)
_WD = st.floats(min_value=0, max_value=1000, allow_nan=False)


@given(t=_T, wd=_WD)
def test_working_days_between_inverts_add(t: float, wd: float) -> None:
    end = _CAL.add(t, wd)
    assert end >= t
    assert _CAL.working_days_between(t, end) == pytest.approx(wd, abs=1e-9)


@given(t=_T, a=_WD, b=_WD)
def test_add_is_monotone_in_working_days(t: float, a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert _CAL.add(t, lo) <= _CAL.add(t, hi)


@given(t=_T, wd=st.floats(min_value=1e-3, max_value=1000))
def test_add_is_earliest(t: float, wd: float) -> None:
    end = _CAL.add(t, wd)
    assert end - t >= wd - 1e-9  # working time never outruns calendar time
    # a moment earlier not all of the work is done
    assert _CAL.working_days_between(t, end - 1e-7) < wd


def test_working_time_array_matches_scalar() -> None:
    """The vectorised W(t) used for the statutory clock equals the scalar one."""
    cal = WorkingCalendar(
        date(2025, 1, 1), 400, "mon-fri", [(date(2025, 5, 1), date(2025, 5, 5))],
        [date(2025, 4, 27)],
    )
    t = np.array([0.0, 0.5, 3.25, 93.0, 120.7, 161.0, 399.9, np.nan])
    got = cal.working_time_array(t)
    want = [cal.working_time(x) for x in t[:-1]]
    np.testing.assert_allclose(got[:-1], want)
    assert np.isnan(got[-1])
