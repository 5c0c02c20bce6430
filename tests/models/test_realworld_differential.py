"""The real-world corpus, differentially: every record fastavro writes survives the models.

For each stream of tests/corpus/realworld and 25 derandomized records covering every
union branch: fastavro's bytes -> decode_avro -> model -> encode_avro gives the same
bytes; so do fastavro's plain dict -> model and model -> JSON -> model. The generated
package passes mypy --strict. (ClickHouse: tests/clickhouse/test_realworld_tables.py.)
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from fastavro import schemaless_writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.models.avro_strategies import AvroStrategies
from tests.models.helpers import REPO, import_models

SPECS = REPO / "tests/corpus/realworld/specs"
STREAMS = sorted(p.stem for p in SPECS.glob("*.yaml") if p.name != "moosegen.yaml")
EXAMPLES = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def models_of(root: Path, stream: str) -> ModuleType:
    return import_models(root, "mg_realworld", stream)


def write(strategies: AvroStrategies, record: object) -> bytes:
    buffer = io.BytesIO()
    schemaless_writer(buffer, strategies.schema, record)
    return buffer.getvalue()


@pytest.mark.parametrize("stream", STREAMS)
def test_records_keep_their_bytes_through_the_models(realworld: Path, stream: str) -> None:
    models = models_of(realworld, stream)
    strategies = AvroStrategies(json.loads(models.SCHEMA_JSON))

    @EXAMPLES
    @given(st.data())
    def check(data: st.DataObject) -> None:
        record = data.draw(strategies.records())
        raw = write(strategies, record)
        model = models.MODEL.model_validate(models.decode_avro(raw))
        assert models.encode_avro(model) == raw, "decode_avro -> model -> encode_avro"
        plain = strategies.plain(strategies.schema, record)
        assert models.encode_avro(models.MODEL.model_validate(plain)) == raw, "dict -> model"
        text = models.encode_json(model)
        again = models.MODEL.model_validate_json(text)
        assert models.encode_avro(again) == raw, f"JSON form {text!r}"
        assert again == model
        rows = models.ROWS.validate_python([models.decode_avro(raw)])
        assert models.ROWS.validate_json(b"[" + text + b"]") == rows

    check()


def test_every_union_branch_is_drawn() -> None:
    """The strategy reaches each branch of a union of three records."""
    schema = json.loads((SPECS / "payments.avsc").read_text())
    strategies = AvroStrategies(schema)
    union = next(f["type"] for f in strategies.schema["fields"] if f["name"] == "method")
    seen: set[str] = set()

    @settings(max_examples=60, derandomize=True, database=None, deadline=None)
    @given(strategies.of(union, 0))
    def draw(value: tuple[str, object]) -> None:
        seen.add(value[0])

    draw()
    assert seen == {
        "com.acme.billing.Card",
        "com.acme.billing.BankTransfer",
        "com.acme.wallets.Wallet",
    }


def test_generated_models_pass_mypy_strict(realworld: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "mg_realworld"],
        cwd=realworld,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
