"""`moosegen check` and a no-change `build` on a generated project of N specs, against the
time to import the CLI and build modules, measured side by side (interleaved, medians).

    PYTHONPATH=generator python bench/check_speed.py [N=200] [REPS=5]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Three shapes of stream, repeated: a shorthand stream with every common type, an Avro
# stream with a nested record, and a fan-out stream with routing hooks.
SHORTHAND = """\
stream: {name}
description: Generated stream {i}
key: [id]
topic: {{partitions: 3, retention: 7d, compression: lz4}}
table: {{engine: ReplacingMergeTree, order_by: [id], partition_by: toYYYYMM(ts)}}
fields:
  id: string
  ts: timestamp-millis
  user: string
  kind: {{type: enum, name: Kind{i}, symbols: [a, b, c], default: a}}
  amount: {{type: decimal, precision: 18, scale: 4}}
  score: double
  tags: {{type: array, items: string}}
  attrs: {{type: map, values: string}}
  note: string?
"""
AVRO_SPEC = """\
stream: {name}
schema: {name}.avsc
format: avro
key: [id]
"""
AVRO_SCHEMA = """\
{{"type": "record", "name": "R{i}", "namespace": "bench.s{i}", "fields": [
  {{"name": "id", "type": "string"}},
  {{"name": "at", "type": {{"type": "long", "logicalType": "timestamp-micros"}}}},
  {{"name": "item", "type": {{"type": "record", "name": "Item", "fields": [
    {{"name": "sku", "type": "string"}}, {{"name": "qty", "type": "int"}}]}}}},
  {{"name": "price", "type": ["null", "double"], "default": null}}
]}}
"""


def make_project(root: Path, n: int) -> Path:
    specs = root / "specs"
    specs.mkdir(parents=True)
    (specs / "moosegen.yaml").write_text("namespace: bench\n")
    for i in range(n):
        name = f"s{i:04d}"
        if i % 2 == 0:
            (specs / f"{name}.yaml").write_text(SHORTHAND.format(name=name, i=i))
        else:
            (specs / f"{name}.yaml").write_text(AVRO_SPEC.format(name=name))
            (specs / f"{name}.avsc").write_text(AVRO_SCHEMA.format(i=i))
    return specs


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="moosegen-bench-") as tmp:
        root = Path(tmp)
        make_project(root, n)
        first = timed([py, "-m", "moosegen", "build", "specs"], root)
        runs: dict[str, list[float]] = {
            "import": [],
            "check": [],
            "build (no change)": [],
            "check (no cache)": [],
        }
        check = [py, "-m", "moosegen", "check", "specs"]
        for i in range(reps):
            runs["import"].append(timed([py, "-c", "import moosegen.cli, moosegen.build"], root))
            runs["check"].append(timed(check, root))
            runs["build (no change)"].append(timed([py, "-m", "moosegen", "build", "specs"], root))
            # An empty cache folder: the full pipeline, as on a fresh CI machine.
            cold = {**os.environ, "MOOSEGEN_BUILD_CACHE": str(root / f"empty-cache-{i}")}
            runs["check (no cache)"].append(timed(check, root, cold))
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"{n} specs; first build {first:.2f} s; medians of {reps} interleaved runs:")
    for k, v in med.items():
        print(f"  {k:<18} {v:6.3f} s")
    print(f"check/import = {med['check'] / med['import']:.2f}")
    print(f"build (no change)/import = {med['build (no change)'] / med['import']:.2f}")
    print(f"check (no cache)/import = {med['check (no cache)'] / med['import']:.2f}")


if __name__ == "__main__":
    main()
