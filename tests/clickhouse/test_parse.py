"""Every generated statement goes through ClickHouse's own parser, cluster forms included.

Statements with ON CLUSTER (Replicated*, Distributed) cannot run on the embedded
engine, so they are parsed only; `formatQuery` refuses a text holding more than
one statement, so each chunk is also proven to be exactly one.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.clickhouse.conftest import ROOT, build_into
from moosegen.runtime.migrations import split_statements

CORPUS = sorted((ROOT / "tests" / "corpus").glob("*/specs"))


def _sql_files(out: Path) -> list[Path]:
    return sorted([*out.glob("*/table.sql"), *out.glob("*/migrations/*.sql")])


def _statements(out: Path) -> list[str]:
    found = [s for path in _sql_files(out) for s in split_statements(path.read_text())]
    assert found, f"no statements under {out}"
    return found


def _parses(client: Any, statement: str) -> str:
    formatted = client.query(
        "SELECT formatQuery({q:String})", parameters={"q": statement}
    ).result_rows[0][0]
    assert isinstance(formatted, str) and formatted
    return formatted


def _cluster_project(source: Path, tmp_path: Path, distributed: bool) -> Path:
    specs = tmp_path / "specs"
    shutil.copytree(source, specs)
    config = specs / "moosegen.yaml"
    config.write_text(
        (config.read_text() if config.exists() else "")
        + f"cluster: {{name: main, distributed: {str(distributed).lower()}, "
        "sharding_key: 'cityHash64(toString(rand()))'}\n"
    )
    return specs


@pytest.mark.parametrize("specs", [ROOT / "specs", *CORPUS], ids=lambda p: p.parent.name)
def test_every_statement_parses(specs: Path, tmp_path: Path, client: Any) -> None:
    for statement in _statements(build_into(specs, tmp_path / "gen")):
        _parses(client, statement)


@pytest.mark.parametrize("specs", [ROOT / "specs", *CORPUS], ids=lambda p: p.parent.name)
def test_cluster_corpus_parses(specs: Path, tmp_path: Path, client: Any) -> None:
    out = build_into(_cluster_project(specs, tmp_path, True), tmp_path / "gen")
    formatted = [_parses(client, s) for s in _statements(out)]
    assert all(" ON CLUSTER main" in f for f in formatted)


@pytest.mark.parametrize("distributed", [True, False])
def test_cluster_statements_parse(distributed: bool, tmp_path: Path, client: Any) -> None:
    out = build_into(_cluster_project(ROOT / "specs", tmp_path, distributed), tmp_path / "gen")
    formatted = [_parses(client, s) for s in _statements(out)]
    assert all(" ON CLUSTER main" in f for f in formatted)
    assert any("ENGINE = ReplicatedReplacingMergeTree(" in f for f in formatted)
    alters = [f for f in formatted if f.startswith("ALTER TABLE")]
    assert alters, "the example history has migrations"
    distributed_tables = [f for f in formatted if "ENGINE = Distributed(" in f]
    if distributed:
        assert any("page_views_local" in f for f in alters)
        storage = [f for f in formatted if f.startswith("CREATE") and f not in distributed_tables]
        assert len(distributed_tables) == len(storage) > 0
        assert all("cityHash64(toString(rand()))" in f for f in distributed_tables)
    else:
        assert distributed_tables == []
