"""End-to-end: the service is SIGKILLed at random moments while consuming and restarted
with the same static instance id. Its worker processes die with it, the restarted
instance is assigned its partitions at once (not after the dead member's session
timeout, set long here), and every record is stored exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.faults import PLAIN_SPEC, SESSION_TIMEOUT_S, exactly_once, sigkill_drill
from tests.e2e.test_reliability_e2e import Project

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_sigkills_leave_no_orphan_and_restarts_are_assigned_at_once(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    total, kills = 50_000, 4
    p = Project(tmp_path, kafka_bootstrap, partitions=3, batch=2000, spec=PLAIN_SPEC)
    report = sigkill_drill(p, total, kills, seed=7)
    print(f"\nSIGKILL drill, {total} records: {report.summary()}")
    assert len(report.recoveries) == kills
    assert all(n >= 2 for n in report.workers)  # each killed instance had its workers
    assert report.orphans == [0] * kills
    # static membership: the same id came back, so its partitions did not wait for the
    # dead member's session to expire
    assert all(t < SESSION_TIMEOUT_S for t in report.assigned_after), report.assigned_after
    assert exactly_once(p, total) == [total, total, 0]
