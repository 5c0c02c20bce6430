"""Generated Python passes ruff check, ruff format --check and mypy --strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.models.helpers import REPO

CONFIG = str(REPO / "pyproject.toml")


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.fixture(scope="module")
def trees(
    example_dir: Path, corpus: ModuleType, names: ModuleType, orders: ModuleType
) -> list[str]:
    return ["mg_example", "mg_corpus", "mg_names", "mg_orders"]


def test_checked_trees_hold_services_and_runtime(gen_root: Path, trees: list[str]) -> None:
    """The checks below see every generated Python file, not only the models."""
    for tree in ("mg_example", "mg_corpus", "mg_names"):
        root = gen_root / tree
        assert (root / "__init__.py").is_file()
        assert {p.name for p in (root / "_runtime").glob("*.py")} >= {"cli.py", "config.py"}
        services = sorted(p.parent.name for p in root.glob("*/service.py"))
        assert services, tree
        for stream in services:
            for name in ("__init__.py", "__main__.py", "models.py"):
                assert (root / stream / name).is_file(), f"{tree}/{stream}/{name}"
    assert (gen_root / "mg_orders" / "_runtime").is_dir()


def test_ruff_check(gen_root: Path, trees: list[str]) -> None:
    proc = _run("ruff", "check", "--config", CONFIG, "--no-cache", *trees, cwd=gen_root)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format(gen_root: Path, trees: list[str]) -> None:
    proc = _run(
        "ruff",
        "format",
        "--config",
        CONFIG,
        "--no-cache",
        "--check",
        "--diff",
        *trees,
        cwd=gen_root,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("tree", ["mg_example", "mg_corpus", "mg_names", "mg_orders"])
def test_mypy_strict(gen_root: Path, trees: list[str], tree: str) -> None:
    proc = _run(
        "mypy", "--strict", "--no-incremental", "--python-version", "3.10", tree, cwd=gen_root
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_example_models_import(gen_root: Path, example_dir: Path) -> None:
    from tests.models.helpers import import_models

    events = import_models(gen_root, "mg_example", "events")
    assert set(events.DESTINATIONS) == {"events", "analytics_events"}
    model, adapter = events.DESTINATIONS["analytics_events"]
    assert model.__name__ == "AnalyticsEvent" and adapter is events.ANALYTICS_EVENTS_ROWS
    assert events.DESTINATIONS["events"] == (events.MODEL, events.ROWS)
    assert events.Producer.PARTITION_KEY_FIELDS == ("user_id",)
    for stream in ("domain_events", "commands", "queries"):
        module = import_models(gen_root, "mg_example", stream)
        assert module.MODEL.model_json_schema()
