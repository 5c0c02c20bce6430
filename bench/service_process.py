"""The generated service as users run it, against the transport ceiling, side by side.

    PYTHONPATH=generator python bench/service_process.py [--records N] [--partitions P]
        [--reps R] [--poison 0.01] [--batch-sizes 10000,100000] [--cases json,...]
        [--kafka HOST:PORT]

For each case a spec of the 8-field event (string id, timestamp-millis, a
low-cardinality string, an enum, decimal(18,4), a double, an array of strings, a map
of strings) is built with `moosegen build`, its topic (P partitions) is filled once
with N records on the real broker (a fraction `--poison` of them undecodable or
invalid), and then, interleaved R times, each with a fresh consumer group and a
fresh ClickHouse folder:

- service: `python -m generated.<stream> setup`, then `... run --batch-size B` as a
  separate process; its rate is read from its own Prometheus metrics (first consumed
  message → every record stored or dead-lettered), its memory (workers included) from
  /proc: the resident set when half the records are done and at the end (it must not
  grow with the records consumed), and the peak;
- ceiling: a separate minimal consumer process on the same topic that hands each
  batch of raw payloads to ClickHouse (`INSERT ... FORMAT JSONEachRow`, the engine
  parses the JSON itself, bad rows skipped, however many) and commits synchronously. For Avro
  topics it consumes the Avro messages and inserts the JSON form of the same records
  (ClickHouse cannot parse single-object or unregistered Confluent framing itself).

Each service run is checked: every valid id stored exactly once (count and distinct
count, no FINAL), every poison message dead-lettered (its dead-letter counter). Prints,
per case and batch size, the medians and `service/ceiling = x.xx`.

Cases: json, avro-single (Avro single-object encoding), avro-confluent (Confluent
wire format with the embedded schema id), json-hook (a transform hook: the model path).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FIELDS = """\
fields:
  id: string
  ts: timestamp-millis
  region: string
  kind: {type: enum, name: Kind_STREAM, symbols: [click, view, purchase]}
  amount: {type: decimal, precision: 18, scale: 4}
  score: double
  tags: {type: array, items: string}
  attrs: {type: map, values: string}
"""
HOOKS = """\
def tag(record):
    record.region = record.region.upper()
    return record
"""
CASES = {
    # case: (stream, format, framing, transform hook)
    "json": ("bench_json", "json", "json", None),
    "avro-single": ("bench_avro_single", "avro", "single", None),
    "avro-confluent": ("bench_avro_confluent", "avro", "confluent", None),
    "json-hook": ("bench_hook", "json", "json", "bench_hooks:tag"),
}
PROGRESS = (
    "moosegen_messages_total",
    "moosegen_rows_inserted_total",
    "moosegen_dead_lettered_total",
)
POLL_S = 0.1  # the rate's resolution; a run lasts seconds
REGIONS = ["eu-west-1", "us-east-1", "ap-south-1", "sa-east-1"]


@dataclass
class Run:
    seconds: float
    cpu_s: float = 0.0  # user + system CPU while timed (workers included)
    rss_mib: float = 0.0  # peak
    half_mib: float = 0.0  # resident when half the records were done
    end_mib: float = 0.0  # resident at the end
    dead: int = 0


def spec(stream: str, fmt: str, partitions: int, batch: int, hook: str | None) -> str:
    extra = f"transform: {hook}\n" if hook else ""
    return (
        f"stream: {stream}\nformat: {fmt}\nkey: [id]\n"
        f"topic: {{partitions: {partitions}, retention: forever}}\n"
        "table: {order_by: [id], columns: {region: {low_cardinality: true}}}\n"
        f"batch: {{size: {batch}, timeout: 1s}}\n{extra}{FIELDS.replace('STREAM', stream)}"
    )


def build(root: Path, partitions: int, batch: int, cases: list[str]) -> None:
    specs = root / "specs"
    specs.mkdir()
    (specs / "moosegen.yaml").write_text("compatibility: NONE\n")
    for case in cases:
        stream, fmt, _, hook = CASES[case]
        (specs / f"{stream}.yaml").write_text(spec(stream, fmt, partitions, batch, hook))
    (root / "bench_hooks.py").write_text(HOOKS)
    env = {**os.environ, "PYTHONPATH": str(REPO / "generator")}
    done = subprocess.run(
        [sys.executable, "-m", "moosegen", "build", "specs"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"moosegen build failed:\n{done.stderr}")


def records(n: int, seed: int = 7) -> list[dict[str, Any]]:
    import datetime as dt

    rnd = random.Random(seed)
    base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    return [
        {
            "id": f"e{i:09d}",
            "ts": base + dt.timedelta(milliseconds=i * 7),
            "region": REGIONS[i % 4],
            "kind": ("click", "view", "purchase")[i % 3],
            "amount": Decimal(rnd.randrange(-(10**9), 10**9)).scaleb(-4),
            "score": rnd.random() * 100,
            "tags": [f"t{i % 5}", f"u{i % 7}"][: i % 3],
            "attrs": {"k": str(i % 11)} if i % 2 else {},
        }
        for i in range(n)
    ]


def json_form(r: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            **r,
            "ts": r["ts"].strftime("%Y-%m-%dT%H:%M:%S.") + f"{r['ts'].microsecond // 1000:03d}Z",
            "amount": str(r["amount"]),
        },
        separators=(",", ":"),
    ).encode()


POISON = [b"{not json", b'{"id": 5}', b"\x00\x01garbage", b'{"id":"x","ts":"yesterday"}']


def fill(root: Path, case: str, bootstrap: str, n: int, poison: float) -> tuple[str, int]:
    """Produce the case's topic once; returns (topic, number of poison messages)."""
    import fastavro
    from confluent_kafka import Producer

    stream, _, framing, _ = CASES[case]
    sys.path.insert(0, str(root))
    models = __import__(f"generated.{stream}.models", fromlist=["models"])
    topic = stream
    parsed = fastavro.parse_schema(json.loads(models.SCHEMA_JSON))
    head = (
        b"\xc3\x01" + models.FINGERPRINT
        if framing == "single"
        else b"\x00" + models.SCHEMA_ID.to_bytes(4, "big")
    )
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 50, "batch.num.messages": 10000}
    )
    rnd = random.Random(11)
    bad = 0
    import io

    for r in records(n):
        if rnd.random() < poison:
            value, bad = POISON[bad % len(POISON)], bad + 1
        elif framing == "json":
            value = json_form(r)
        else:
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, parsed, r)
            value = head + buf.getvalue()
        while True:
            try:
                producer.produce(topic, value, key=r["id"].encode())
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    assert producer.flush(120) == 0
    held = sum(topic_size(bootstrap, topic))
    if held != n:  # the service consumes its configured topic: it must hold these alone
        raise SystemExit(f"topic {topic} holds {held} messages, not {n}: use a fresh broker")
    return topic, bad


def topic_size(bootstrap: str, topic: str) -> list[int]:
    """The number of messages in each partition of a topic."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-size"})
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        marks = [consumer.get_watermark_offsets(TopicPartition(topic, p)) for p in meta.partitions]
        return [high - low for low, high in marks]
    finally:
        consumer.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def metrics(port: int, *names: str) -> list[float]:
    """The totals of the named families, from one scrape (each scrape costs the service
    CPU: it is polled every POLL_S, not faster)."""
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read()
    except OSError:
        return [0.0] * len(names)
    totals = dict.fromkeys(names, 0.0)
    for line in text.decode().splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in totals:
            totals[name] += float(line.rsplit(" ", 1)[1])
    return [totals[n] for n in names]


def tree_pids(pid: int) -> list[int]:
    """A process and its descendants."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return pids


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in tree_pids(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def tree_rss_mib(pid: int, field: str = "VmHWM") -> float:
    """Peak (VmHWM) or current (VmRSS) RSS of a process and its children, in MiB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(ln for ln in status.splitlines() if ln.startswith(field)).split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            continue
    return total / 1024


def service_env(root: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(root),
        "MOOSEGEN_METRICS_PORT": str(port),
        "MOOSEGEN_LOG_LEVEL": "WARNING",
    }


def setup(root: Path, case: str, bootstrap: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            f"generated.{CASES[case][0]}",
            "setup",
            "--bootstrap-servers",
            bootstrap,
            "--clickhouse",
            f"chdb://{root / f'ch-setup-{case}'}",
        ],
        cwd=root,
        env=service_env(root, 0),
        check=True,
        capture_output=True,
    )


def run_service(
    root: Path, case: str, bootstrap: str, n: int, batch: int, rep: str, timeout: float
) -> Run:
    stream = CASES[case][0]
    chdb = root / f"ch-{case}-{rep}"
    port = free_port()
    env = service_env(root, port)
    common = ["--bootstrap-servers", bootstrap, "--clickhouse", f"chdb://{chdb}"]
    topic_env = env
    group = f"svc-{case}-{rep}-{time.time_ns()}"
    subprocess.run(
        [sys.executable, "-m", f"generated.{stream}", "setup", *common],
        cwd=root,
        env=topic_env,
        check=True,
        capture_output=True,
    )
    log = open(root / f"service-{case}-{rep}.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            f"generated.{stream}",
            "run",
            *common,
            "--group-id",
            group,
            "--batch-size",
            str(batch),
        ],
        cwd=root,
        env=topic_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        start, cpu0 = None, 0.0
        half = 0.0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"service exited {proc.returncode}; see {log.name}")
            seen, inserted, dead = metrics(port, *PROGRESS)
            if start is None and seen > 0:
                start, cpu0 = time.perf_counter(), tree_cpu_s(proc.pid)
            done = inserted + dead
            if not half and done >= n / 2:
                half = tree_rss_mib(proc.pid, "VmRSS")
            if start is not None and done >= n:
                break
            time.sleep(POLL_S)
        else:
            raise SystemExit(f"service did not finish in {timeout} s; see {log.name}")
        seconds = time.perf_counter() - start
        cpu = tree_cpu_s(proc.pid) - cpu0
        run = Run(seconds, cpu, tree_rss_mib(proc.pid), half, tree_rss_mib(proc.pid, "VmRSS"))
        run.dead = int(metrics(port, "moosegen_dead_lettered_total")[0])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        log.close()
    return run


def stored(root: Path, case: str, rep: str) -> tuple[int, int]:
    stream = CASES[case][0]
    code = (
        "import sys,clickhouse_connect;c=clickhouse_connect.get_client(dsn=sys.argv[1]);"
        f"print(*c.query('SELECT count(), uniqExact(id) FROM `{stream}`').result_rows[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, f"chdb://{root / f'ch-{case}-{rep}'}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[-2]), int(out[-1])


def run_ceiling(root: Path, case: str, topic: str, bootstrap: str, n: int, batch: int) -> Run:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--ceiling-worker",
            json.dumps([str(root), case, topic, bootstrap, n, batch]),
        ],
        cwd=root,
        env=service_env(root, 0),
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"the ceiling consumer failed:\n{out.stderr[-3000:]}")
    seconds, cpu = out.stdout.split()[-2:]
    return Run(float(seconds), float(cpu))


def ceiling_worker(root: Path, case: str, topic: str, bootstrap: str, n: int, batch: int) -> None:
    import clickhouse_connect
    from confluent_kafka import Consumer

    stream, _, framing, _ = CASES[case]
    json_of = {} if framing == "json" else {r["id"]: json_form(r) for r in records(n)}
    client = clickhouse_connect.get_client(dsn=f"chdb://{root / f'ceiling-{time.time_ns()}'}")
    ddl = (root / "generated" / stream / "table.sql").read_text()
    for statement in ddl.split(";"):
        if "CREATE" in statement:
            client.command(statement[statement.index("CREATE") :])
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"ceiling-{time.time_ns()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    # Any number of bad rows skipped (a ratio fails a batch that begins with one).
    settings = {"input_format_allow_errors_num": batch, "date_time_input_format": "best_effort"}
    seen, start, cpu0 = 0, None, 0.0
    while seen < n:
        msgs = consumer.consume(num_messages=batch, timeout=1.0)
        if not msgs:
            continue
        if start is None:
            start, cpu0 = time.perf_counter(), sum(os.times()[:2])
        if framing == "json":
            body = b"\n".join(m.value() for m in msgs)
        else:
            body = b"\n".join(json_of.get(m.key().decode(), b"{}") for m in msgs)
        client.raw_insert(stream, insert_block=body, fmt="JSONEachRow", settings=settings)
        consumer.commit(asynchronous=False)
        seen += len(msgs)
    assert start is not None
    print(f"{time.perf_counter() - start:.4f} {sum(os.times()[:2]) - cpu0:.3f}")
    consumer.close()


def compare(
    root: Path, case: str, topic: str, bootstrap: str, batch: int, bad: int, args: Any
) -> None:
    """The service against the ceiling on one filled topic, interleaved, each run checked."""
    n = args.records
    label = f"[{case} batch {batch}]"
    service_runs, ceiling_runs, ratios = [], [], []
    for rep in range(args.reps):
        c = run_ceiling(root, case, topic, bootstrap, n, batch)
        run = f"{batch}-{rep}"
        s = run_service(root, case, bootstrap, n, batch, run, args.timeout)
        count, distinct = stored(root, case, run)
        valid = n - bad
        if (count, distinct) != (valid, valid):
            raise SystemExit(f"{label} stored {count} rows, {distinct} ids; expected {valid}")
        if s.dead != bad:
            raise SystemExit(f"{label} dead-lettered {s.dead} messages; expected {bad}")
        ceiling_runs.append(c)
        service_runs.append(s)
        ratios.append(c.seconds / s.seconds)
        print(
            f"{label} rep {rep}: ceiling {n / c.seconds:,.0f}/s, service {n / s.seconds:,.0f}/s, "
            f"ratio {c.seconds / s.seconds:.2f}; CPU µs/record ceiling {c.cpu_s / n * 1e6:.1f}, "
            f"service {s.cpu_s / n * 1e6:.1f}; RSS MiB at N/2 {s.half_mib:.0f}, at N "
            f"{s.end_mib:.0f}, peak {s.rss_mib:.0f}; stored exactly once: {count}, "
            f"dead-lettered: {s.dead}"
        )
    med_s = statistics.median(r.seconds for r in service_runs)
    med_c = statistics.median(r.seconds for r in ceiling_runs)
    pairs = zip(ceiling_runs, service_runs, strict=True)
    cpu = statistics.median(c.cpu_s / s.cpu_s for c, s in pairs)
    print(
        f"{label} service/ceiling = {statistics.median(ratios):.2f} "
        f"(medians: service {n / med_s:,.0f}/s, ceiling {n / med_c:,.0f}/s; CPU ceiling/service "
        f"{cpu:.2f}; peak RSS {max(r.rss_mib for r in service_runs):.0f} MiB)"
    )


def start_kafka() -> tuple[str, str]:
    name = f"bench-{os.getpid()}"
    up = subprocess.run(
        [str(REPO / "scripts" / "kafka"), "up", "--name", name],
        capture_output=True,
        text=True,
        check=True,
    )
    return up.stdout.strip().splitlines()[-1], name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--partitions", type=int, default=3)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--poison", type=float, default=0.01)
    ap.add_argument("--batch-sizes", default="10000", help="comma-separated; e.g. 10000,100000")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--kafka", default=None, help="a running broker (default: start one)")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--ceiling-worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ceiling_worker:
        root, case, topic, bootstrap, n, batch = json.loads(args.ceiling_worker)
        ceiling_worker(Path(root), case, topic, bootstrap, n, batch)
        return
    cases = args.cases.split(",")
    kafka_name = None
    bootstrap = args.kafka
    if bootstrap is None:
        bootstrap, kafka_name = start_kafka()
    try:
        with tempfile.TemporaryDirectory(prefix="moosegen-svc-bench-") as tmp:
            root = Path(tmp)
            sizes = [int(b) for b in args.batch_sizes.split(",")]
            build(root, args.partitions, sizes[0], cases)
            print(
                f"{args.records} records per case, {args.partitions} partitions, "
                f"{args.poison:.1%} poison, batch.size {args.batch_sizes}, {args.reps} reps"
            )
            for case in cases:
                setup(root, case, bootstrap)  # the topics, with their partitions
                t0 = time.perf_counter()
                topic, bad = fill(root, case, bootstrap, args.records, args.poison)
                print(f"[{case}] produced in {time.perf_counter() - t0:.1f} s ({bad} poison)")
                for batch in sizes:
                    compare(root, case, topic, bootstrap, batch, bad, args)
    finally:
        if kafka_name:
            subprocess.run(
                [str(REPO / "scripts" / "kafka"), "down", "--name", kafka_name],
                capture_output=True,
            )


if __name__ == "__main__":
    main()
