# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""Decode, validate, transform, route: one block of source messages → rows per destination.

The plain path (no hooks) validates the whole block with the generated TypedDict
adapter in one call and never builds a model; hooks get model instances.
"""

from __future__ import annotations

import contextlib
import gc
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, Field, Json, TypeAdapter, ValidationError

from .avro_codec import CONFIG
from .config import DestinationConfig, ServiceConfig
from .hooks import resolve
from .json_codec import unframe
from .registry import RegistryUnavailable, SchemaRegistry, WriterResolver

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"


@dataclass
class Failure:
    """One source message that could not (yet) be stored, and why."""

    msg: Any
    error: BaseException
    stage: str  # decode | validate | transform | route | destination | insert | consumer | sync
    retryable: bool
    record: Any = None  # the model instance when there is one

    @property
    def error_type(self) -> str:
        return {"decode": "undecodable", "validate": "invalid"}.get(self.stage, self.stage)


@dataclass
class Item:
    """One source message on its way through the pipeline."""

    msg: Any
    row: dict[str, Any]
    model: Any = None


@dataclass
class Routed:
    """The rows of one destination, each with the item it came from."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)


class RecordTooLarge(ValueError):
    pass


class UndeclaredFields(ValueError):
    """A hook returned fields the destination's schema does not declare."""

    def __init__(self, destination: str, names: list[str]) -> None:
        self.names = names
        super().__init__(
            f"destination {destination!r} does not declare the field(s) {', '.join(names)} "
            "returned by the transform (declare them in its schema, or set "
            "extra_fields: ignore)"
        )


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a block's values are made.

    Validating a block allocates hundreds of thousands of acyclic objects (row dicts,
    datetimes, decimals); each one counts towards the collector's thresholds, so the
    collector would run over and over, walking every live object, for no garbage.
    Measured on the example stream that doubled the time of the sync path. Paused per
    block, the collector catches up once afterwards; it is left as it was found.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def payloads_adapter(rows: TypeAdapter[Any]) -> TypeAdapter[Any]:
    """A block's JSON payloads validated one by one in a single call: each item is its
    row, or the payload itself (bytes) when it is not valid JSON or not a valid row.

    The same row type and config as the `rows` adapter over the payloads joined as one
    JSON array, each payload parsed as JSON; but a bad payload costs only its own
    failure, not a second pass over the block to find which one it was.
    """
    (row,) = typing.get_args(rows._type)  # the generated ROWS adapter is a list[RowDict]
    either = Annotated[Json[row] | bytes, Field(union_mode="left_to_right")]  # type: ignore[valid-type]
    return TypeAdapter(list[either], config=CONFIG)


class Pipeline:
    def __init__(self, config: ServiceConfig, max_message_bytes: int = 8 * 1024 * 1024) -> None:
        self.config = config
        models = config.models
        self.models = models
        self.model: type[BaseModel] = models.MODEL
        self.rows_adapter: TypeAdapter[Any] = models.ROWS
        self.payloads_adapter = payloads_adapter(self.rows_adapter)
        # Confluent-framed JSON may carry any registered version's id.
        self.json_ids = frozenset(getattr(models, "WRITER_SCHEMAS", {}))
        self.max_message_bytes = max_message_bytes
        dests: dict[str, tuple[type[BaseModel], TypeAdapter[Any]]] = dict(
            getattr(models, "DESTINATIONS", {})
        )
        self.destinations: list[DestinationConfig] = list(config.destinations)
        self.adapters: dict[str, TypeAdapter[Any]] = {}
        # The field names (Avro names) each strict destination declares.
        self.declared: dict[str, frozenset[str]] = {}
        for d in self.destinations:
            self.adapters[d.name] = dests[d.name][1] if d.name in dests else self.rows_adapter
            if d.extra_fields != "ignore":
                model = dests[d.name][0] if d.name in dests else self.model
                self.declared[d.name] = frozenset(
                    info.alias or attr for attr, info in model.model_fields.items()
                )
        self.transform = resolve(config.transform, "transform") if config.transform else None
        self.route = resolve(config.route, "route") if config.route else None
        self.sync = resolve(config.sync, "sync") if config.sync else None
        self.consumers = [resolve(c, "consumer") for c in config.consumers]
        self.dest_transforms: dict[str, Callable[..., Any]] = {
            d.name: resolve(d.transform, f"destination {d.name!r} transform")
            for d in self.destinations
            if d.transform
        }
        self.needs_models = bool(
            self.transform or self.route or self.sync or self.consumers or self.dest_transforms
        )
        registry = SchemaRegistry.from_env(config.registry_url)
        self.writers = (
            WriterResolver(models.CODEC, registry)
            if registry is not None and config.format == "avro"
            else None
        )
        # The plain path: every destination takes the source rows as they are.
        self.plain = not self.needs_models and all(
            self.adapters[d.name] is self.rows_adapter for d in self.destinations
        )

    # -- decode + validate -------------------------------------------------
    def decode(self, msgs: Sequence[Any]) -> tuple[list[Item], list[Failure]]:
        with gc_paused():
            return self._decode(msgs)

    def _decode(self, msgs: Sequence[Any]) -> tuple[list[Item], list[Failure]]:
        if self.config.format == "json":
            items, failures = self._decode_json(msgs)
        else:
            items, failures = self._decode_avro(msgs)
        if self.needs_models and items:
            kept: list[Item] = []
            for item in items:
                try:
                    item.model = self.model.model_validate(item.row)
                except ValidationError as exc:
                    failures.append(Failure(item.msg, exc, "validate", False))
                    continue
                kept.append(item)
            items = kept
        return items, failures

    def _check_size(self, value: Any) -> None:
        if not isinstance(value, bytes):
            raise ValueError("message has no value (tombstone)")
        if len(value) > self.max_message_bytes:
            raise RecordTooLarge(
                f"message of {len(value)} bytes exceeds the limit of {self.max_message_bytes}"
            )

    def _decode_one_avro(self, data: bytes) -> dict[str, Any]:
        models = self.models
        if data.startswith(SINGLE_OBJECT_MAGIC):
            decoded: dict[str, Any] = models.decode_single_object(data)
            return decoded
        if data.startswith(CONFLUENT_MAGIC):
            if self.writers is not None:
                return self.writers.decode_confluent(data)
            decoded = models.decode_confluent(data)  # no registry: the embedded ids only
            return decoded
        raise ValueError("neither Avro single-object nor Confluent wire format")

    def block_rows(self, payloads: Sequence[Any]) -> tuple[list[dict[str, Any]], list[int]]:
        """The rows of the payloads that decode and validate, in order, and the indices of
        the others (`decode` tells why they fail). The Schema Registry being unavailable
        raises `RegistryUnavailable`: no payload is judged for it."""
        if self.config.format == "json":
            return self._json_rows(payloads)
        return self._avro_rows(payloads)

    def _unframed(self, value: Any) -> Any:
        """The JSON of a Confluent-framed value; a bad frame stays, for `_judge_json`."""
        if isinstance(value, bytes) and value.startswith(CONFLUENT_MAGIC):
            with contextlib.suppress(ValueError):
                return unframe(value, self.json_ids)
        return value

    def _json_rows(self, payloads: Sequence[Any]) -> tuple[list[dict[str, Any]], list[int]]:
        payloads = [self._unframed(p) for p in payloads]
        limit = self.max_message_bytes
        at = [k for k, p in enumerate(payloads) if isinstance(p, bytes) and 0 < len(p) <= limit]
        whole = len(at) == len(payloads)
        checked = self.payloads_adapter.validate_python(
            payloads if whole else [payloads[k] for k in at]
        )
        if whole and not any(type(r) is bytes for r in checked):
            return checked, []
        good = {at[j] for j, r in enumerate(checked) if type(r) is not bytes}
        rows = [r for r in checked if type(r) is not bytes]
        return rows, [k for k in range(len(payloads)) if k not in good]

    def _avro_rows(self, payloads: Sequence[Any]) -> tuple[list[dict[str, Any]], list[int]]:
        decoded: list[Any] = []
        at: list[int] = []  # the payload index of each decoded value
        failed: list[int] = []
        for k, value in enumerate(payloads):
            try:
                self._check_size(value)
                decoded.append(self._decode_one_avro(value))
                at.append(k)
            except RegistryUnavailable:
                raise
            except Exception:  # noqa: BLE001 - the data's fault; `decode` says which
                failed.append(k)
        try:
            return self.rows_adapter.validate_python(decoded), failed
        except ValidationError as exc:
            invalid = {
                int(e["loc"][0])
                for e in exc.errors()
                if e["loc"][:1] and isinstance(e["loc"][0], int)
            }
        try:
            rows = self.rows_adapter.validate_python(
                [d for j, d in enumerate(decoded) if j not in invalid]
            )
        except ValidationError:  # cannot tell which: every payload is judged alone
            return [], list(range(len(payloads)))
        return rows, sorted(failed + [at[j] for j in invalid])

    def _decode_json(self, msgs: Sequence[Any]) -> tuple[list[Item], list[Failure]]:
        return self._decode_judged(msgs, self._json_rows, self._judge_json)

    def _decode_avro(self, msgs: Sequence[Any]) -> tuple[list[Item], list[Failure]]:
        return self._decode_judged(msgs, self._avro_rows, self._judge_avro)

    def _decode_judged(
        self,
        msgs: Sequence[Any],
        rows_of: Callable[[Sequence[Any]], tuple[list[dict[str, Any]], list[int]]],
        judge: Callable[[Any], Item | Failure],
    ) -> tuple[list[Item], list[Failure]]:
        """The block's rows in bulk; each message that fails there is judged alone, so its
        failure (stage, error) is its own."""
        rows, failed = rows_of([m.value() for m in msgs])
        if not failed:
            return [Item(m, r) for m, r in zip(msgs, rows, strict=True)], []
        judged = {k: judge(msgs[k]) for k in failed}
        good = iter(rows)
        items: list[Item] = []
        failures: list[Failure] = []
        for k, m in enumerate(msgs):
            got = judged.get(k)
            if got is None:
                items.append(Item(m, next(good)))
            elif isinstance(got, Item):
                items.append(got)  # accepted alone (not expected): kept all the same
            else:
                failures.append(got)
        return items, failures

    def _judge_json(self, m: Any) -> Item | Failure:
        p = m.value()
        try:
            self._check_size(p)
            p = unframe(p, self.json_ids)  # says why a frame is bad
            rows = self.rows_adapter.validate_json(b"[" + p + b"]")
            if len(rows) != 1:
                raise ValueError("payload is not exactly one JSON value")
        except RecordTooLarge as exc:
            return Failure(m, exc, "oversized", False)
        except ValidationError as exc:
            kinds = {e["type"] for e in exc.errors()}
            stage = "decode" if kinds & {"json_invalid", "json_type"} else "validate"
            return Failure(m, exc, stage, False)
        except ValueError as exc:
            return Failure(m, exc, "decode", False)
        return Item(m, rows[0])

    def _judge_avro(self, m: Any) -> Item | Failure:
        value = m.value()
        try:
            self._check_size(value)
            decoded = self._decode_one_avro(value)
        except RegistryUnavailable:
            raise  # not the message's fault: the caller waits for the registry
        except RecordTooLarge as exc:
            return Failure(m, exc, "oversized", False)
        except Exception as exc:  # noqa: BLE001 - any decoder failure is the data's
            return Failure(m, exc, "decode", False)
        try:
            return Item(m, self.rows_adapter.validate_python([decoded])[0])
        except ValidationError as exc:
            return Failure(m, exc, "validate", False)

    # -- transform, route, fan-out ----------------------------------------
    def records_after_transform(self, item: Item) -> list[Any]:
        """The stream transform's output for one item (raises what the hook raises)."""
        if self.transform is None:
            return [item.row if item.model is None else item.model]
        return _as_list(self.transform(item.model))

    def route_items(self, items: Sequence[Item]) -> tuple[dict[str, Routed], list[Failure]]:
        if self.plain:
            rows = [i.row for i in items]
            return {d.name: Routed(rows, list(items)) for d in self.destinations}, []
        with gc_paused():
            return self._route_items(items)

    def _route_items(self, items: Sequence[Item]) -> tuple[dict[str, Routed], list[Failure]]:
        routed: dict[str, Routed] = {d.name: Routed() for d in self.destinations}
        failures: list[Failure] = []
        names = [d.name for d in self.destinations]
        for item in items:
            outputs: list[tuple[str, Any]] = []
            stage = "transform"
            try:
                for record in self.records_after_transform(item):
                    stage = "route"
                    targets = _as_names(self.route(record)) if self.route else names
                    for name in targets:
                        if name not in routed:
                            raise LookupError(
                                f"route returned unknown destination {name!r}; "
                                f"known: {', '.join(names)}"
                            )
                        stage = "destination"
                        hook = self.dest_transforms.get(name)
                        for out in _as_list(hook(record)) if hook else [record]:
                            row = _plain(out)
                            extra = self._undeclared(name, row)
                            if extra:
                                stage = "destination" if hook else "transform"
                                raise UndeclaredFields(name, extra)
                            outputs.append((name, row))
                    stage = "transform"
            except Exception as exc:  # noqa: BLE001 - a hook failure is the record's
                retryable = not isinstance(exc, (LookupError, UndeclaredFields))
                failures.append(Failure(item.msg, exc, stage, retryable, item.model))
                continue
            for name, row in outputs:
                routed[name].rows.append(row)
                routed[name].items.append(item)
        # Validate every destination's rows with its own generated rules.
        bad: dict[int, Failure] = {}
        for name, r in routed.items():
            adapter = self.adapters[name]
            try:
                r.rows = list(adapter.validate_python(r.rows))
            except ValidationError:
                checked: list[dict[str, Any]] = []
                for row, item in zip(r.rows, r.items, strict=True):
                    try:
                        checked.append(adapter.validate_python([row])[0])
                    except ValidationError as exc:
                        bad.setdefault(
                            id(item), Failure(item.msg, exc, "destination", False, item.model)
                        )
                        checked.append(row)
                r.rows = checked
        if bad:
            for r in routed.values():
                keep = [k for k, item in enumerate(r.items) if id(item) not in bad]
                r.rows = [r.rows[k] for k in keep]
                r.items = [r.items[k] for k in keep]
            failures.extend(bad.values())
        return routed, failures

    def _undeclared(self, destination: str, row: dict[str, Any]) -> list[str]:
        declared = self.declared.get(destination)
        if declared is None or row.keys() <= declared:
            return []
        return sorted(k for k in row if k not in declared)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [v for v in value if v is not None]
    return [value]


def _as_names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _plain(value: Any) -> dict[str, Any]:
    if isinstance(value, BaseModel):
        row = value.model_dump(by_alias=True)
        # `model_copy(update=...)` keeps names the model does not declare as attributes,
        # which model_dump leaves out: they stay in the row, to be judged, not dropped.
        fields = type(value).model_fields
        for name, attr in value.__dict__.items():
            if name not in fields:
                row[name] = attr
        return row
    if isinstance(value, dict):
        return value
    raise TypeError(f"a hook returned {type(value).__name__}; expected a model or a dict")
