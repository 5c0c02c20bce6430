"""pytest fixture for a live Schema Registry (Apicurio, in memory), started with
scripts/schema-registry.

- `schema_registry_url` (session): the Confluent-compatible base URL, ending in
  /apis/ccompat/v7. Uses SCHEMA_REGISTRY_URL when set, otherwise starts a registry and
  stops it at the end.

If the registry cannot be started the fixture fails (it never skips) with the tail of
its log.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import kafka_fixtures

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "schema-registry"
UP_TIMEOUT_S = 1200  # covers a cold `fetch` (a Maven build) plus the 120 s readiness bound
DOWN_TIMEOUT_S = 60


def run_script(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return kafka_fixtures.run_script(*args, timeout=timeout, script=SCRIPT)


@pytest.fixture(scope="session")
def schema_registry_url() -> Iterator[str]:
    external = os.environ.get("SCHEMA_REGISTRY_URL")
    if external:
        yield external.rstrip("/")
        return
    name = f"pytest-{os.getpid()}"
    try:
        proc = run_script("up", "--name", name, timeout=UP_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        run_script("down", "--name", name, timeout=DOWN_TIMEOUT_S)
        pytest.fail(f"scripts/schema-registry up did not return in {UP_TIMEOUT_S}s:\n"
                    f"{exc.stderr}", False)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        pytest.fail(f"scripts/schema-registry up failed (exit {proc.returncode}):\n"
                    + proc.stderr[-6000:], pytrace=False)
    try:
        yield lines[-1]
    finally:
        run_script("down", "--name", name, timeout=DOWN_TIMEOUT_S)
