"""Run the generated service of a spec project as a separate process (end-to-end tests).

chdb locks its folder for the process that opens it, so the service owns the
folder while it runs; tables are queried afterwards in a short child process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
STAND_IN_MODELS = ROOT / "tests" / "runtime" / "events_models.py"


def env(extra: dict[str, str] | None = None) -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests" / "e2e"), str(SPECS)])
    e.update(extra or {})
    return e


def build_project(tmp: Path, spec_yaml: str) -> Path:
    """A specs folder with the example's schemas and `spec_yaml` as events.yaml, built."""
    specs = tmp / "specs"
    specs.mkdir()
    for name in ("events.avsc", "analytics_event.avsc", "moosegen.yaml"):
        shutil.copy(SPECS / name, specs / name)
    (specs / "events.yaml").write_text(spec_yaml)
    out = build_tree(tmp, specs)
    models = out / "events" / "models.py"
    if "ROWS" not in models.read_text():  # the models target is not there yet: stand-in
        shutil.copy(STAND_IN_MODELS, models)
    migrations = out / "events" / "migrations"
    if not migrations.is_dir() or not list(migrations.glob("*.sql")):
        migrations.mkdir(exist_ok=True)
        (migrations / "0001_create.sql").write_text(fallback_ddl(tmp))
    return out


def build_tree(tmp: Path, specs: Path) -> Path:
    """`moosegen build specs --output tmp/generated`; returns the output folder."""
    out = tmp / "generated"
    subprocess.run([sys.executable, "-m", "moosegen", "build", str(specs), "--output", str(out)],
                   cwd=tmp, check=True, env={**os.environ, "PYTHONPATH": str(ROOT / "generator")},
                   capture_output=True, timeout=120)
    return out


def fallback_ddl(tmp: Path) -> str:
    code = ("import json,sys; from generated.events.service import CONFIG as C; "
            "print(json.dumps([[d.name, [[c.name, c.type] for c in d.columns]] "
            "for d in C.destinations]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp, env=env(), check=True,
                         capture_output=True, text=True, timeout=60).stdout
    stmts = []
    for name, cols in json.loads(out):
        body = ", ".join(f"`{c}` {t}" for c, t in cols)
        stmts.append(f"CREATE TABLE IF NOT EXISTS `{name}` ({body}) ENGINE = MergeTree "
                     "ORDER BY tuple() SETTINGS non_replicated_deduplication_window = 10000;")
    return "\n".join(stmts) + "\n"


def run_cli(tmp: Path, *args: str, extra: dict[str, str] | None = None,
            timeout: float = 120, stream: str = "events") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", f"generated.{stream}", *args], cwd=tmp,
                          env=env(extra), capture_output=True, text=True, timeout=timeout)


def start(tmp: Path, *args: str, extra: dict[str, str] | None = None,
          stream: str = "events") -> subprocess.Popen[str]:
    log = open(tmp / "service.log", "a")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", f"generated.{stream}", "run", *args], cwd=tmp,
                            env=env(extra), stdout=log, stderr=subprocess.STDOUT, text=True)


def stop(proc: subprocess.Popen[str], timeout: float = 60) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise


def query(tmp: Path, chdb_dir: Path, sql: str) -> list[list[Any]]:
    code = ("import json,sys,clickhouse_connect; c=clickhouse_connect.get_client(dsn=sys.argv[1]);"
            "print(json.dumps(c.query(sys.argv[2]).result_rows, default=str))")
    out = subprocess.run([sys.executable, "-c", code, f"chdb://{chdb_dir}", sql], cwd=tmp,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    rows: list[list[Any]] = json.loads(out.strip().splitlines()[-1])
    return rows


def committed_all(bootstrap: str, group: str, topic: str) -> bool:
    """Has `group` committed every partition up to its high watermark? Transient broker
    errors (a coordinator still moving, for example) count as "not yet"."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                  "enable.auto.commit": False})
    try:
        md = c.list_topics(topic, timeout=10)
        parts = [TopicPartition(topic, p) for p in md.topics[topic].partitions]
        try:
            committed = c.committed(parts, timeout=10)
            for tp in committed:
                _, high = c.get_watermark_offsets(TopicPartition(topic, tp.partition), timeout=10)
                if high > 0 and tp.offset != high:
                    return False
        except KafkaException:
            return False
        return True
    finally:
        c.close()


def wait_until(cond: Any, timeout: float, what: str, proc: Any = None, poll: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"service exited early with {proc.returncode} while {what}")
        if cond():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out: {what}")


def http_get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def produce(bootstrap: str, topic: str, values: list[tuple[bytes | None, bytes | None]],
            headers: list[tuple[str, bytes]] | None = None, partition: int | None = None,
            config: dict[str, Any] | None = None) -> None:
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **(config or {})})
    extra = {} if partition is None else {"partition": partition}
    for key, value in values:
        p.produce(topic, value=value, key=key, headers=headers, **extra)
    assert p.flush(30) == 0


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 30) -> list[Any]:
    from confluent_kafka import Consumer

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{time.time_ns()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    got: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(got) < expected and time.monotonic() < deadline:
            for m in c.consume(100, 1.0):
                if m.error() is None:
                    got.append(m)
        # a little longer, to see any extra message
        got.extend(m for m in c.consume(100, 1.0) if m.error() is None)
    finally:
        c.close()
    return got


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (children, theirs, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    """The pids still running (a zombie waiting for its reaper counts as gone)."""
    out = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            out.add(pid)
    return out


def wait_gone(pids: set[int], timeout: float) -> set[int]:
    """Wait (bounded) until none of `pids` runs; returns those still running."""
    deadline = time.monotonic() + timeout
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pids)


def kill_all(pids: set[int]) -> None:
    """SIGKILL leftovers a failed check found (so a failing test leaves no orphan)."""
    for pid in alive(pids):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def peak_rss_kib(pids: set[int]) -> dict[int, int]:
    """VmHWM (peak resident set, KiB) of each running pid."""
    out: dict[int, int] = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        out[pid] = int(line.split()[1])
        except OSError:
            continue
    return out
