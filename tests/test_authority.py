"""The licensing authority through small event logs with hand-checked times.

Each test builds an Authority alone -- a SimPy environment, a calendar, its random streams
and the authority table of a tiny config, no World -- submits hand-made applications at
chosen times, runs the environment and checks what happened to each file against times
worked out by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy

from sim.config import config_from_dict
from sim.config.schema import ControlsLift, GeneralLicence
from sim.model.authority import Authority
from sim.model.calendar import WorkingCalendar
from sim.model.clock import post_call
from sim.model.licensing import Licensing
from sim.model.records import APPROVED, REFUSED, SHELF, UNDECIDED, Application
from sim.model.rng import Streams


def tiny(authority: dict | None = None, **top) -> dict:
    """A config with one material, two destinations and an idle background stream."""
    a = {
        "reviewers": 1,
        "review_time": {"dist": "constant", "value": 2.0},
        "background": {
            "rate_per_day": 0.0,
            "quantity_kg": {"dist": "constant", "value": 1.0},
            "materials": {"m": 1.0},
            "destinations": {"HI": 1.0},
        },
    }
    a.update(authority or {})
    cfg = {
        "horizon_days": 100.0,
        "calendar": {"start": "2025-01-06", "working_days": "all"},
        "materials": {"m": {"controlled_at_start": True}},
        "destinations": {"HI": {"priority": 0}, "LO": {"priority": 1}},
        "authority": a,
    }
    cfg.update(top)
    return cfg


class Log:
    """Submit applications at given times to an Authority and run it."""

    def __init__(self, raw: dict, seed: int = 0) -> None:
        self.cfg = config_from_dict(raw)
        c = self.cfg.calendar
        self.env = simpy.Environment()
        self.calendar = WorkingCalendar(c.start, self.cfg.horizon_days, c.working_days,
                                        [(h.start, h.end) for h in c.holidays])
        self.streams = Streams(seed)
        self.authority = Authority(self.env, self.calendar, self.cfg.authority, self.streams)
        self.apps: list[Application] = []

    def at(self, t: float, fn, arg) -> None:  # noqa: ANN001
        post_call(self.env, t, fn, arg)

    def submit(self, t: float, destination: str = "HI", sector: str = "none") -> Application:
        app = Application(len(self.apps), None, sector, "civil", "m", destination, 1.0,
                          self.cfg.destinations[destination].priority, 1, t, None)
        self.apps.append(app)
        self.at(t, self.authority.submit, app)
        return app

    def run(self, until: float = 100.0) -> list[Application]:
        self.env.run(until=until)
        return self.apps


def test_fifo_one_reviewer_serves_in_arrival_order() -> None:
    log = Log(tiny())
    for t in (0.0, 0.0, 1.0):
        log.submit(t)
    a, b, c = log.run()
    # One reviewer, 2 days each: reviews 0-2, 2-4, 4-6.
    assert [x.review_start for x in (a, b, c)] == [0.0, 2.0, 4.0]
    assert [x.decided for x in (a, b, c)] == [2.0, 4.0, 6.0]
    assert [x.wait for x in (a, b, c)] == [0.0, 2.0, 3.0]
    assert all(x.outcome == APPROVED for x in (a, b, c))


def test_priority_class_overtakes_waiting_lower_class() -> None:
    log = Log(tiny({"discipline": "priority"}))
    first = log.submit(0.0, "LO")  # takes the reviewer at once
    low = log.submit(0.5, "LO")
    high = log.submit(1.0, "HI")  # arrives later, served first
    log.run()
    assert first.review_start == 0.0
    assert high.review_start == 2.0 and high.decided == 4.0
    assert low.review_start == 4.0 and low.decided == 6.0


def test_fifo_ignores_priority_classes() -> None:
    log = Log(tiny({"discipline": "fifo"}))
    log.submit(0.0, "LO")
    low = log.submit(0.5, "LO")
    high = log.submit(1.0, "HI")
    log.run()
    assert low.review_start == 2.0 and high.review_start == 4.0


def test_two_reviewers_work_in_parallel() -> None:
    log = Log(tiny({"reviewers": 2}))
    apps = [log.submit(0.0) for _ in range(4)]
    log.run()
    assert [a.decided for a in apps] == [2.0, 2.0, 4.0, 4.0]


def test_review_time_counts_working_days_only() -> None:
    # 2025-01-10 is a Friday (t = 4 from Monday 2025-01-06): a 2-working-day review
    # started then covers Friday and Monday, ending at the start of Tuesday (t = 8).
    raw = tiny(calendar={"start": "2025-01-06", "working_days": "mon-fri"})
    log = Log(raw)
    a = log.submit(4.0)
    log.run()
    assert a.decided == pytest.approx(8.0)
    assert a.review == pytest.approx(4.0)


def test_pre_acceptance_delay_in_working_days() -> None:
    raw = tiny({"pre_acceptance": {"dist": "constant", "value": 3.0}},
               calendar={"start": "2025-01-06", "working_days": "mon-fri"})
    log = Log(raw)
    a = log.submit(3.0)  # Thursday: Thu, Fri, Mon -> accepted start of Tuesday (t = 8)
    log.run()
    assert a.accepted == pytest.approx(8.0)
    assert a.review_start == pytest.approx(8.0)
    assert a.wait == 0.0


def test_information_request_sends_file_back_and_requeues() -> None:
    raw = tiny({"information_requests": {
        "probability": 1.0, "max_rounds": 1,
        "response_days": {"dist": "constant", "value": 3.0}}})
    log = Log(raw)
    a = log.submit(0.0)
    log.run()
    # Review 0-2, sent back, answer after 3 days (t = 5), second review 5-7.
    assert a.rfi_rounds == 1
    assert a.review_start == 0.0
    assert a.decided == 7.0
    assert a.review == 4.0
    assert a.outcome == APPROVED


def test_refused_and_left_pending() -> None:
    log = Log(tiny({"decision": {"approve": 0.0, "refuse": 1.0}}))
    a = log.submit(0.0)
    log.run()
    assert a.outcome == REFUSED and a.decided == 2.0
    log = Log(tiny({"decision": {"approve": 0.0, "refuse": 0.0,
                                 "pending_approval_rate_per_day": 1.0}}))
    b = log.submit(0.0)
    log.run()
    # Approval probability 0: never approved later, whatever the pending rate.
    assert b.outcome == UNDECIDED and b.state == SHELF and math.isnan(b.decided)


def test_pending_files_approved_at_the_pending_hazard() -> None:
    # approve 0.5 at review; a pending file is approved later at rate r * 0.5, so its
    # extra wait is exponential with mean 1 / (0.5 r) = 10 days for r = 0.2.
    raw = tiny({"reviewers": 50, "review_time": {"dist": "constant", "value": 1.0},
                "decision": {"approve": 0.5, "refuse": 0.0,
                             "pending_approval_rate_per_day": 0.2}},
               horizon_days=2000.0)
    log = Log(raw, seed=3)
    for i in range(2000):
        log.submit(i * 0.5)
    apps = log.run(until=2000.0)
    late = np.array([a.decided - (a.review_start + 1.0) for a in apps
                     if a.outcome == APPROVED and a.decided > a.review_start + 1.0])
    share_now = np.mean([a.decided == a.review_start + 1.0 for a in apps])
    # Binomial(2000, 0.5): SE 0.011, so ±0.045 is 4 SE.
    assert abs(share_now - 0.5) < 0.045
    # ~1000 exponential delays with mean 10: SE ~0.32; 4 SE.
    assert abs(late.mean() - 10.0) < 4 * late.std(ddof=1) / math.sqrt(len(late))
    assert all(a.outcome == APPROVED for a in apps[:1500])  # P(still pending) ~ e^-190


def test_suspension_stops_new_reviews_until_resumed() -> None:
    log = Log(tiny())
    apps = [log.submit(0.0) for _ in range(3)]
    log.at(3.0, log.authority.suspend, True)
    log.at(10.0, log.authority.suspend, False)
    log.run()
    # First review 0-2, second 2-4 (started before the suspension), third waits to 10.
    assert [a.review_start for a in apps] == [0.0, 2.0, 10.0]
    assert apps[2].decided == 12.0


def test_reviewer_count_changes_over_time() -> None:
    log = Log(tiny())
    apps = [log.submit(0.0) for _ in range(5)]
    log.at(1.0, log.authority.set_reviewers, 3)
    log.at(3.0, log.authority.set_reviewers, 1)
    log.run()
    # t=0: one reviewer takes #0; t=1: two more take #1 and #2 (done at 3);
    # t=2: #0 done, its reviewer takes #3 (done 4); at t=3 the count drops to 1, so the
    # two reviewers finishing at 3 retire and #4 waits for the one left (start 4).
    assert [a.review_start for a in apps] == [0.0, 1.0, 1.0, 2.0, 4.0]
    assert log.authority.target == 1 and log.authority.busy == 0


def test_zero_reviewers_leave_files_waiting() -> None:
    log = Log(tiny())
    log.at(0.0, log.authority.set_reviewers, 0)
    a = log.submit(1.0)
    log.run()
    assert a.outcome == UNDECIDED and math.isnan(a.review_start)
    assert log.authority.queued == 1


def test_general_licence_skips_the_queue() -> None:
    log = Log(tiny())
    spec = GeneralLicence(type="general_licence", date="2025-01-06", destinations=["LO"],
                          valid_days=10.0,
                          processing_days={"dist": "constant", "value": 1.0})
    log.authority.grant_general_licence(spec)
    blocker = log.submit(0.0, "HI")
    licensed = log.submit(0.5, "LO")
    expired = log.submit(11.0, "LO")  # the licence ran out at t = 10
    log.run()
    assert blocker.decided == 2.0
    assert licensed.general and licensed.decided == 1.5 and licensed.wait == 0.0
    assert not expired.general and expired.review_start == 11.0


def test_controls_lift_approves_every_open_file() -> None:
    log = Log(tiny({"decision": {"approve": 0.0, "refuse": 0.0}}))
    apps = [log.submit(0.0) for _ in range(3)]
    licensing = Licensing(log.env, log.cfg, log.authority, log.streams)
    lift = ControlsLift(type="controls_lift", date="2025-01-06", materials=["m"])
    log.at(3.0, licensing.lift, lift.materials)
    log.run()
    # #0 reviewed 0-2 and left pending; #1 in review; #2 waiting: all approved at 3.
    assert [a.outcome for a in apps] == [APPROVED] * 3
    assert [a.decided for a in apps] == [3.0] * 3
    assert log.authority.open == 0 and log.authority.queued == 0
    assert not licensing.controlled["m"]


def test_backlog_statistics_are_time_weighted() -> None:
    log = Log(tiny())
    for _ in range(3):
        log.submit(0.0)
    log.run(until=10.0)
    a = log.authority
    a.finish()
    # Open files: 3 on [0,2), 2 on [2,4), 1 on [4,6): area 12. Waiting: 2, 1, 0: area 6.
    assert a.area_open == pytest.approx(12.0)
    assert a.area_queue == pytest.approx(6.0)
    assert a.area_busy == pytest.approx(6.0)
    assert a.open_max == 3
