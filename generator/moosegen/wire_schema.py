"""`<stream>/schema.json`: the JSON Schema of each stream's JSON wire format, for HTTP
producers and other languages.

It is what pydantic itself says the generated model accepts
(`MODEL.model_json_schema(by_alias=True, mode="validation")`), so it cannot drift from
the validation the service runs. The models, as the built-in templates lay them out
(a user's template overrides may import the user's own code), are imported once per
build from a scratch package beside the vendored runtime, under a name of their own
that is removed again afterwards; they import only pydantic, fastavro and the runtime.
"""

from __future__ import annotations

import importlib
import itertools
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_runs = itertools.count()


class WireSchemaError(Exception):
    """A generated module could not be imported to read its model's JSON Schema."""


def wire_schemas(
    models: dict[str, str], runtime: dict[str, bytes], headers: dict[str, str]
) -> dict[str, bytes]:
    """`<stream>/schema.json` for every stream: `models` maps a stream package to its
    `models.py`, `runtime` is the vendored runtime (`_runtime/...`), `headers` the files'
    header per package."""
    package = f"_moosegen_wire_{next(_runs)}"
    with tempfile.TemporaryDirectory(prefix="moosegen-wire-") as tmp:
        root = Path(tmp) / package
        sources = {"__init__.py": b"", **runtime}
        for stream, text in models.items():
            sources[f"{stream}/__init__.py"] = b""
            sources[f"{stream}/models.py"] = text.encode("utf-8")
        for rel, data in sources.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        sys.path.insert(0, tmp)
        try:
            return {
                f"{stream}/schema.json": _document(_model_schema(package, stream), header)
                for stream, header in sorted(headers.items())
            }
        finally:
            sys.path.remove(tmp)
            for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
                del sys.modules[name]


def _model_schema(package: str, stream: str) -> dict[str, Any]:
    try:
        module = importlib.import_module(f"{package}.{stream}.models")
        schema: dict[str, Any] = module.MODEL.model_json_schema(by_alias=True, mode="validation")
    except Exception as exc:  # noqa: BLE001 - any failure is the generated module's
        raise WireSchemaError(f"{stream}/models.py: {type(exc).__name__}: {exc}") from exc
    return schema


def _document(schema: dict[str, Any], header: str) -> bytes:
    doc = {"$comment": header, "$schema": DRAFT, **schema}  # the header on line 2
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
