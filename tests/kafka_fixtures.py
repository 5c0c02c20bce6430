"""pytest fixtures for a real Kafka broker, started with scripts/kafka.

- `kafka_bootstrap` (session): a bootstrap string. Uses KAFKA_BOOTSTRAP_SERVERS
  when set, otherwise starts a single KRaft broker and stops it at the end.
- `kafka_cluster3` (session): a `KafkaCluster` of three KRaft nodes (three
  controller voters), for fault tests; mark those tests `kafka` and `slow`.
  KAFKA_CLUSTER3_BOOTSTRAP_SERVERS points it at an existing cluster instead.

If a broker cannot be started the fixture fails (it never skips) and shows the
tail of the broker logs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "kafka"
UP_TIMEOUT_S = 600  # covers a cold `fetch` plus the broker's own 90 s readiness bound
DOWN_TIMEOUT_S = 60


def run_script(
    *args: str, timeout: float, script: Path = SCRIPT
) -> subprocess.CompletedProcess[str]:
    """One of the project's service scripts (scripts/kafka by default), bounded in time."""
    return subprocess.run(
        [sys.executable, str(script), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass(frozen=True)
class KafkaCluster:
    """A running broker or cluster; `managed` if this test session started it."""

    name: str
    bootstrap: str
    nodes: int
    managed: bool

    def _node(self, action: str, node_id: int) -> None:
        if not self.managed:
            pytest.skip("the cluster was not started by this session; cannot stop or start nodes")
        proc = run_script("node", action, str(node_id), "--name", self.name, timeout=UP_TIMEOUT_S)
        if proc.returncode != 0:
            pytest.fail(f"scripts/kafka node {action} {node_id} failed:\n{proc.stderr}", False)

    def stop_node(self, node_id: int) -> None:
        """Stop node `node_id` (1-based); its data is kept for `start_node`."""
        self._node("stop", node_id)

    def start_node(self, node_id: int) -> None:
        """Start a stopped node again and wait until it has rejoined."""
        self._node("start", node_id)

    def log_tail(self, lines: int = 40) -> str:
        return run_script("logs", "--name", self.name, "--lines", str(lines), timeout=30).stdout


def start_cluster(name: str, nodes: int) -> KafkaCluster:
    """Run `scripts/kafka up`; fail the requesting test with the broker log tail if it cannot."""
    try:
        proc = run_script("up", "--nodes", str(nodes), "--name", name, timeout=UP_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        run_script("down", "--name", name, timeout=DOWN_TIMEOUT_S)
        pytest.fail(f"scripts/kafka up did not return in {UP_TIMEOUT_S}s:\n{exc.stderr}", False)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        pytest.fail(
            f"scripts/kafka up --nodes {nodes} failed (exit {proc.returncode}):\n"
            + proc.stderr[-6000:],
            pytrace=False,
        )
    return KafkaCluster(name=name, bootstrap=lines[-1], nodes=nodes, managed=True)


def stop_cluster(cluster: KafkaCluster) -> None:
    if cluster.managed:
        run_script("down", "--name", cluster.name, timeout=DOWN_TIMEOUT_S)


def session_cluster(env_var: str, name: str, nodes: int) -> Iterator[KafkaCluster]:
    external = os.environ.get(env_var)
    if external:
        yield KafkaCluster(name=name, bootstrap=external, nodes=nodes, managed=False)
        return
    cluster = start_cluster(name, nodes)
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[KafkaCluster]:
    """One KRaft broker (or KAFKA_BOOTSTRAP_SERVERS), as a KafkaCluster."""
    yield from session_cluster("KAFKA_BOOTSTRAP_SERVERS", f"pytest-{os.getpid()}", 1)


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_cluster: KafkaCluster) -> str:
    """Bootstrap servers of the session's broker, e.g. "127.0.0.1:23204"."""
    return kafka_cluster.bootstrap


@pytest.fixture(scope="session")
def kafka_cluster3() -> Iterator[KafkaCluster]:
    """Three combined broker+controller nodes (or KAFKA_CLUSTER3_BOOTSTRAP_SERVERS)."""
    yield from session_cluster("KAFKA_CLUSTER3_BOOTSTRAP_SERVERS", f"pytest3-{os.getpid()}", 3)
