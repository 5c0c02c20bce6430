"""The readable embedded schemas are the registered ones: same canonical form, same fingerprint."""

from __future__ import annotations

import json
from types import ModuleType

from moosegen.runtime import avro_codec
from moosegen.runtime.model_codecs import canonical_form as runtime_canonical
from moosegen.schema.canonical import canonical_form, fingerprint, readable_form
from moosegen.schema.ir import walk_named
from moosegen.spec.load import load_project

from tests.models.helpers import DATA, REPO

CORPORA = [
    REPO / "specs",
    REPO / "tests/corpus/types/specs",
    REPO / "tests/corpus/reference/specs",
    DATA / "names",
    *sorted((DATA / "versions").iterdir()),
]


def _check(models: ModuleType) -> None:
    for text, schema_id in zip(models.WRITER_SCHEMAS.values(), models.WRITER_SCHEMAS, strict=True):
        fp = avro_codec.fingerprint_of(text).hex()
        assert models.WRITER_FINGERPRINTS[fp] == schema_id
    assert avro_codec.fingerprint_of(models.SCHEMA_JSON) == models.FINGERPRINT
    assert json.loads(models.CANONICAL_FORM)["name"] == json.loads(models.SCHEMA_JSON)["name"]


def test_corpus(corpus: ModuleType) -> None:
    _check(corpus)


def test_every_registered_version(orders: ModuleType) -> None:
    assert len(orders.WRITER_SCHEMAS) == 3
    _check(orders)


def test_names(names: ModuleType) -> None:
    _check(names)


def test_generator_and_runtime_agree_on_every_corpus_type() -> None:
    """The generator's canonical form and fingerprint of the IR are the runtime's of the
    embedded text, for every named type of every corpus and example stream."""
    seen = 0
    for folder in CORPORA:
        project = load_project(folder)
        assert not [d for d in project.diagnostics if d.severity == "error"], folder
        for stream in project.streams:
            roots = [stream.schema, *(d.schema for d in stream.destinations)]
            for named in walk_named(*roots):
                text = readable_form(named)
                assert canonical_form(named) == runtime_canonical(text), named.fullname
                assert fingerprint(named) == avro_codec.fingerprint_of(text).hex()
                seen += 1
    assert seen >= 25  # the corpora hold that many named types: none was skipped
