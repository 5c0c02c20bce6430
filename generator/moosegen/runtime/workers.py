# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""Worker processes for the plain sync path: decode + validate + columns + Arrow of a block.

The CPU-heavy part of a plain block (no hooks) runs in a small pool of processes while
the service's own process keeps consuming from Kafka and inserting the previous block.
A worker gets the block's raw values and lineage (offsets, timestamps), validates them
with the stream's generated `ROWS` adapter (it imports the models module by name), builds
each destination's columns and returns them as Arrow IPC stream buffers, together with
the indices of the messages that failed to decode or validate. The service re-decodes
only those messages itself, so they are triaged and dead-lettered exactly as on the
in-process path. Anything unusual (a column Arrow refuses, a dead worker) gives None, and
the service processes the block in process: nothing is lost or skipped.

Processes are started with `spawn` (or `forkserver` when asked): forking after
confluent-kafka has started its threads is unsafe.

A worker never outlives its service: on Linux the kernel kills it when its parent goes
(PR_SET_PDEATHSIG), and a thread in every worker exits it as soon as its parent changes
or the service is gone (the portable fallback, and the cover for `forkserver`, whose
workers are the fork server's children). A SIGTERM is honoured after a grace period, so
a SIGTERM sent to the whole process group lets the service store its last block first.
A block whose worker does not answer within its timeout (`timeout_s` plus 1 ms a record)
is prepared in process and the pool is replaced: its processes are killed.
"""

from __future__ import annotations

import concurrent.futures
import gc
import importlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from .config import DestinationConfig

log = logging.getLogger("moosegen.runtime.workers")

START_METHODS = ("spawn", "forkserver")
# A block's allowance beyond `timeout_s`: generous (a record takes tens of microseconds).
SECONDS_PER_RECORD = 0.001
PARENT_POLL_S = 0.5
SIGTERM_GRACE_S = 10.0
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def default_workers() -> int:
    """min(2, CPUs): one worker beside the consuming/inserting process on a 2-core box."""
    return min(2, os.cpu_count() or 1)


def resolve_workers(value: int | None) -> int:
    """The pool size: `value` when given (>= 1), else MOOSEGEN_WORKERS, else the default."""
    if value is None or value <= 0:
        env = os.environ.get("MOOSEGEN_WORKERS", "").strip()
        value = int(env) if env else default_workers()
    return max(1, value)


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to rebuild the plain path: all picklable, the models by name."""

    models: str  # the generated models module, e.g. 'generated.events.models'
    stream: str
    topic: str
    format: str
    destinations: tuple[DestinationConfig, ...]
    max_message_bytes: int


@dataclass
class BlockResult:
    """A prepared block (or a chunk of one): the indices of the messages that failed, and
    per destination the Arrow IPC buffers of its rows (one per chunk, in order)."""

    failed: list[int]
    tables: dict[str, list[bytes]]
    rows: int


# -- in the worker process ---------------------------------------------------
_STATE: dict[str, Any] = {}  # by repr(spec): column defaults may be dicts


def _init_worker(service_pid: int) -> None:
    # Shutdown is the service's business: a Ctrl-C to the process group must not kill a
    # worker in the middle of a block, and a SIGTERM only after a grace period.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    # The collector runs between blocks (`prepare_block`), not inside one: re-enabled after a
    # block, its first collection walked the block's rows, still alive (≈10 % of a
    # worker's time, py-spy on the running service).
    gc.disable()
    _BETWEEN_BLOCKS.append(True)
    _die_with_parent()
    parent = os.getppid()  # read after the prctl: a parent dead before it is seen below
    if _service_gone(parent, service_pid):
        os._exit(0)
    threading.Thread(
        target=_watch, args=(parent, service_pid), name="moosegen-parent-watch", daemon=True
    ).start()


def _die_with_parent() -> None:
    """Ask Linux for a SIGKILL when the parent dies (the thread that started this process:
    the pool's processes are started by the service's main thread)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the watch thread alone
        pass


def _service_gone(parent: int, service_pid: int) -> bool:
    """Is the service dead? Its parent changed, or (a forkserver child) the service's pid
    is no longer there."""
    if os.getppid() != parent:
        return True
    if parent == service_pid:
        return False
    try:
        os.kill(service_pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    return False


_TERMINATED: list[float] = []  # when a SIGTERM arrived (monotonic), at most one entry


def _on_sigterm(_signum: int, _frame: Any) -> None:
    if not _TERMINATED:
        _TERMINATED.append(time.monotonic())


def _watch(parent: int, service_pid: int) -> None:
    while True:
        time.sleep(PARENT_POLL_S)
        if _service_gone(parent, service_pid):
            os._exit(0)
        if _TERMINATED and time.monotonic() - _TERMINATED[0] > SIGTERM_GRACE_S:
            os._exit(0)


def _state(spec: WorkerSpec) -> Any:
    key = repr(spec)
    state = _STATE.get(key)
    if state is None:
        from .columns import ColumnBuilder
        from .config import DeadLetterConfig, ServiceConfig
        from .pipeline import Pipeline

        config = ServiceConfig(
            stream=spec.stream,
            topic=spec.topic,
            models=importlib.import_module(spec.models),
            destinations=spec.destinations,
            dead_letter=DeadLetterConfig(""),
            format=spec.format,
            # Workers never ask the registry: a message naming a schema id the build does
            # not embed fails here and is judged again in the service, whose registry
            # client fetches each unknown id once and holds the partitions while the
            # registry is down.
            registry_url=None,
        )
        pipeline = Pipeline(config, max_message_bytes=spec.max_message_bytes)
        builders = {d.name: ColumnBuilder(d.columns) for d in spec.destinations}
        state = _STATE[key] = (pipeline, builders)
    return state


_BETWEEN_BLOCKS: list[bool] = []  # [True] in a worker: collect before each block


def prepare_block(
    spec: WorkerSpec,
    topic: str,
    partition: int,
    values: list[Any],
    offsets: list[int],
    timestamps: list[int],
) -> BlockResult | None:
    """Decode, validate, build the columns and Arrow tables of one block (None: do it in
    process — a value Arrow refuses, a conversion that fails, the Schema Registry out of
    reach: the service waits for it)."""
    from .columns import Lineage
    from .pipeline import gc_paused
    from .registry import RegistryUnavailable

    pyarrow: Any = importlib.import_module("pyarrow")

    first = repr(spec) not in _STATE
    pipeline, builders = _state(spec)
    if _BETWEEN_BLOCKS:
        # The previous block's objects are gone: only what is not frozen is walked. The
        # models, adapters and modules are frozen after the first block.
        gc.collect()
        if first:
            gc.freeze()
    # No message or item objects: the rows of the good payloads and the lineage (from
    # the offsets and timestamps) go straight to columns; the failed ones are named by
    # index and judged again in the service.
    with gc_paused():
        try:
            rows, failed = pipeline.block_rows(values)
        except RegistryUnavailable:
            return None
        if failed:
            skip = set(failed)
            offsets = [o for k, o in enumerate(offsets) if k not in skip]
            timestamps = [t for k, t in enumerate(timestamps) if k not in skip]
        lineage = Lineage.of(topic, partition, offsets, timestamps)
        tables = _tables(pyarrow, builders, rows, lineage)
    return None if tables is None else BlockResult(failed, tables, len(rows))


def _tables(
    pyarrow: Any, builders: dict[str, Any], rows: list[Any], lineage: Any
) -> dict[str, list[bytes]] | None:
    """Every destination's Arrow IPC buffer of the rows (the plain path: all rows go to
    every destination); None when a conversion fails or Arrow refuses a value."""
    tables: dict[str, list[bytes]] = {}
    for name, builder in builders.items():
        try:
            data = builder.build(rows, lineage)
        except (TypeError, ValueError, OverflowError, ArithmeticError):
            return None
        table = builder.to_arrow(data)
        if table is None:
            return None
        sink = pyarrow.BufferOutputStream()
        with pyarrow.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        tables[name] = [sink.getvalue().to_pybytes()]
    return tables


# -- in the service process -------------------------------------------------
@dataclass
class Pending:
    """One block's chunks on their way, in the executor they were submitted to."""

    executor: concurrent.futures.ProcessPoolExecutor
    futures: list[concurrent.futures.Future[BlockResult | None]]
    records: int


class WorkerPool:
    """A process pool for plain blocks; `result()` gives None whenever the block must be
    processed in process (the pool is then restarted for the next blocks).

    A block that is a whole batch is split into one chunk per worker; the blocks of a
    batch of several partitions into chunks of about `batch / (2 * workers)` messages,
    so every worker gets an equal share whatever the partitions (3 blocks of a third of
    a batch make 6 chunks, 3 a worker, not 2 and 1). Chunks have at least `min_chunk`
    messages. The chunks' tables are concatenated back into the one block, whose range
    and deduplication tokens are unchanged.
    """

    def __init__(
        self,
        spec: WorkerSpec,
        workers: int,
        start_method: str = "spawn",
        min_chunk: int = 2000,
        timeout_s: float = 30.0,
    ) -> None:
        if start_method not in START_METHODS:
            raise ValueError(f"start method must be one of {START_METHODS}")
        self.spec = spec
        self.workers = workers
        self.start_method = start_method
        self.min_chunk = min_chunk
        self.timeout_s = timeout_s
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context(self.start_method),
                initializer=_init_worker,
                initargs=(os.getpid(),),
            )
        return self._pool

    def start(self, timeout: float = 120.0) -> None:
        """Start the workers and load the models in each (so the first block is not slow)."""
        pool = self._executor()
        futures = [pool.submit(_state_ready, self.spec) for _ in range(self.workers)]
        for f in futures:
            f.result(timeout=timeout)

    def block_timeout(self, records: int) -> float:
        """How long a block of `records` messages may take in the workers."""
        return self.timeout_s + records * SECONDS_PER_RECORD

    def submit(self, partition: int, msgs: list[Any], batch: int = 0) -> Pending | None:
        """Start preparing one block of a batch of `batch` messages (default: the block
        alone), in chunks (None: the pool is broken)."""
        batch = max(batch, len(msgs))
        parts = self.workers if batch == len(msgs) else 2 * self.workers
        share = max(self.min_chunk, -(-batch // parts))
        chunks = max(1, -(-len(msgs) // share))
        size = -(-len(msgs) // chunks)
        values = [m.value() for m in msgs]
        offsets = [m.offset() for m in msgs]
        stamps = [m.timestamp()[1] for m in msgs]
        pool = self._executor()
        try:
            futures = [
                pool.submit(
                    prepare_block,
                    self.spec,
                    msgs[0].topic(),
                    partition,
                    values[lo : lo + size],
                    offsets[lo : lo + size],
                    stamps[lo : lo + size],
                )
                for lo in range(0, len(msgs), size)
            ]
        except Exception as exc:  # noqa: BLE001 - a broken pool: the block goes in process
            self._broken(pool, exc)
            return None
        return Pending(pool, futures, len(msgs))

    def result(self, pending: Pending | None) -> BlockResult | None:
        """The block's result, chunks merged (None: prepare it in process). A chunk is
        awaited once the ones before it are done, so its wait starts when a worker has
        taken it (or is free to)."""
        if pending is None:
            return None
        merged = BlockResult([], {}, 0)
        chunk = 0
        timeout = self.block_timeout(pending.records)
        for future in pending.futures:
            try:
                result = future.result(timeout=timeout)
            except concurrent.futures.TimeoutError:
                self._hung(pending.executor, timeout)
                return None
            except Exception as exc:  # noqa: BLE001 - any worker failure: in process
                self._broken(pending.executor, exc)
                return None
            if result is None:
                return None
            merged.failed.extend(chunk + k for k in result.failed)
            for name, buffers in result.tables.items():
                merged.tables.setdefault(name, []).extend(buffers)
            merged.rows += result.rows
            chunk += result.rows + len(result.failed)
        return merged

    @staticmethod
    def cancel(pending: Pending | None) -> None:
        """Drop a block's chunks (those already running finish, unread)."""
        for f in pending.futures if pending is not None else ():
            f.cancel()

    @staticmethod
    def done(pending: Pending | None) -> bool:
        return pending is None or all(f.done() for f in pending.futures)

    def _hung(self, executor: concurrent.futures.ProcessPoolExecutor, timeout: float) -> None:
        log.error(
            "a worker did not finish its block within %.1fs; the block is processed in "
            "process and the pool replaced",
            timeout,
            extra={"event": "worker_hung"},
        )
        # A hung worker may ignore anything gentler; the other blocks of this executor
        # fail over to in process too (their futures break).
        for process in list(getattr(executor, "_processes", {}).values()):
            process.kill()
        self._discard(executor)

    def _broken(self, executor: concurrent.futures.ProcessPoolExecutor, exc: BaseException) -> None:
        from concurrent.futures.process import BrokenProcessPool

        if isinstance(exc, BrokenProcessPool):
            log.error(
                "a worker process died (%s); its block is processed in process and the "
                "pool restarted",
                exc,
                extra={"event": "worker_died"},
            )
            self._discard(executor)
        else:
            log.error(
                "a worker failed on a block (%s: %s); the block is processed in process",
                type(exc).__name__,
                exc,
                extra={"event": "worker_error"},
            )

    def _discard(self, executor: concurrent.futures.ProcessPoolExecutor) -> None:
        """Shut a broken executor down; the next block starts a new one (a block of an
        executor replaced earlier leaves the current one alone)."""
        if self._pool is executor:
            self._pool = None
        executor.shutdown(wait=False, cancel_futures=True)

    def pids(self) -> list[int]:
        pool = self._pool
        procs = getattr(pool, "_processes", None) or {}
        return list(procs)

    def close(self, wait: bool = True, grace_s: float = 10.0) -> None:
        """Stop the workers; waiting, those not gone after `grace_s` (a hung block) are
        killed, so a stopping service never waits on them for ever."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        if not wait:
            return
        deadline = time.monotonic() + grace_s
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
        pool.shutdown(wait=True)


def _state_ready(spec: WorkerSpec) -> int:
    _state(spec)
    return os.getpid()


def table_from_ipc(buffers: list[bytes]) -> Any:
    """One Arrow table from the IPC stream buffers of a block's chunks."""
    pyarrow: Any = importlib.import_module("pyarrow")

    tables = [pyarrow.ipc.open_stream(b).read_all() for b in buffers]
    return tables[0] if len(tables) == 1 else pyarrow.concat_tables(tables)
