"""Shared fixtures: the Apache Avro Java oracle (fetched and compiled on first use)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # schemagen

Oracle = Callable[[Sequence[tuple[Any, Any]]], list[str]]


@pytest.fixture(scope="session")
def avro_oracle() -> Oracle:
    """Run Avro Java's SchemaCompatibility on (reader, writer) pairs, one JVM per batch.

    `scripts/avro-oracle` fetches org.apache.avro:avro with Maven into
    ${MOOSEGEN_CACHE:-~/.cache/moosegen} and compiles tests/compat/java/CompatOracle.java
    the first time; later runs reuse the cache.
    """
    if not shutil.which("java") or not shutil.which("javac") or not shutil.which("mvn"):
        pytest.skip("the Avro Java oracle needs java, javac and mvn on PATH")
    script = ROOT / "scripts" / "avro-oracle"
    build = subprocess.run([str(script)], capture_output=True, text=True, timeout=900)
    if build.returncode != 0:
        pytest.fail(f"building the Avro Java oracle failed:\n{build.stderr[-4000:]}")

    def run(pairs: Sequence[tuple[Any, Any]]) -> list[str]:
        text = "".join(json.dumps([r, w]) + "\n" for r, w in pairs)
        proc = subprocess.run([str(script), "run"], input=text, capture_output=True,
                              text=True, timeout=600, env=dict(os.environ))
        assert proc.returncode == 0, proc.stderr[-4000:]
        lines = proc.stdout.splitlines()
        assert len(lines) == len(pairs), proc.stderr[-4000:]
        return lines

    return run


def java_verdict(line: str) -> tuple[str, list[str]]:
    """('COMPATIBLE'|'INCOMPATIBLE'|'ERROR', sorted incompatibility types or [message])."""
    verdict, _, rest = line.partition("\t")
    if verdict == "INCOMPATIBLE":
        return verdict, sorted({item.split("@", 1)[0] for item in rest.split()})
    return verdict, [rest] if rest else []
