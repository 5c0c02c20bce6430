"""The committed generated/ tree is exactly what the example specs build, on any hash seed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from moosegen.build import generate
from moosegen.output import check_tree, existing_files

from tests import golden_cases
from tests.helpers import REPO, moosegen


def test_example_project_matches_committed_output() -> None:
    result = generate(REPO / "specs")
    assert result.ok, [d.text() for d in result.diagnostics]
    drift = check_tree(REPO / "generated", result.files)
    assert drift == [], "\n".join(f"{d.kind} {d.path}\n{d.diff}" for d in drift)


def test_every_generated_file_says_do_not_edit() -> None:
    for rel in existing_files(REPO / "generated"):
        if rel.endswith(".pyc"):
            continue
        text = (REPO / "generated" / rel).read_text()
        assert "DO NOT EDIT" in text.split("\n", 3)[0] + text.split("\n", 3)[1], rel
        assert str(REPO) not in text, f"{rel} contains a machine path"


def test_builds_are_identical_under_different_hash_seeds(tmp_path: Path) -> None:
    trees = []
    for seed in ("0", "1", "4242"):
        out = tmp_path / f"seed{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = moosegen("build", "specs", "-o", str(out), env=env)
        assert result.returncode == 0, result.stderr
        trees.append({rel: (out / rel).read_bytes() for rel in sorted(existing_files(out))})
    assert trees[0] == trees[1] == trees[2]


def _project_copy(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(REPO / "specs", root / "specs", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        REPO / "generated", root / "generated", ignore=shutil.ignore_patterns("__pycache__")
    )
    return root


def test_a_comment_edit_in_a_spec_is_named_by_check(tmp_path: Path) -> None:
    root = _project_copy(tmp_path)
    spec = root / "specs" / "events.avsc"
    spec.write_text(spec.read_text() + "\n")
    result = moosegen("check", "specs", cwd=root)
    assert result.returncode == 1
    assert "specs/events.avsc:1:1: error[SPEC_CHANGED_SINCE_BUILD]" in result.stderr


def test_check_passes_then_names_an_edited_generated_file(tmp_path: Path) -> None:
    root = _project_copy(tmp_path)
    assert moosegen("check", "specs", cwd=root).returncode == 0
    target = root / "generated" / "events" / "topics.json"
    target.write_text(target.read_text().replace('"lz4"', '"gzip"'))
    result = moosegen("check", "specs", cwd=root)
    assert result.returncode == 1
    assert "CHANGED  generated/events/topics.json" in result.stderr
    assert '-        "compression.type": "gzip"' in result.stderr


def test_check_names_missing_and_extra_files(tmp_path: Path) -> None:
    root = _project_copy(tmp_path)
    (root / "generated" / "queries" / "topics.json").unlink()
    (root / "generated" / "queries" / "notes.txt").write_text("hand-written")
    result = moosegen("check", "specs", cwd=root)
    assert result.returncode == 1
    assert "MISSING  generated/queries/topics.json" in result.stderr
    assert "EXTRA    generated/queries/notes.txt" in result.stderr
    assert (root / "generated" / "queries" / "notes.txt").exists(), "check must never write"


def test_check_fails_after_a_spec_edit_and_build_repairs_it(tmp_path: Path) -> None:
    root = _project_copy(tmp_path)
    spec = root / "specs" / "queries.yaml"
    spec.write_text(spec.read_text().replace("retention: 3d", "retention: 4d"))
    result = moosegen("check", "specs", cwd=root)
    assert result.returncode == 1
    assert "generated/queries/topics.json" in result.stderr
    assert "specs/queries.yaml:1:1: error[SPEC_CHANGED_SINCE_BUILD]" in result.stderr
    assert moosegen("build", "specs", cwd=root).returncode == 0
    assert moosegen("check", "specs", cwd=root).returncode == 0


@pytest.mark.parametrize("case", golden_cases.cases(), ids=lambda c: c.name)
def test_golden_case(case: golden_cases.Case) -> None:
    """Byte for byte; `scripts/update-golden` regenerates the expected trees."""
    built, present = case.build(), case.present()
    stale = sorted(rel for rel in built if present.get(rel) != built[rel])
    extra = sorted(set(present) - set(built))
    where = case.expected.relative_to(REPO)
    assert not stale and not extra, (
        f"golden case {case.name} differs from {where}: changed or missing {stale}, "
        f"extra {extra}; run `scripts/update-golden {case.name}` and review the diff"
    )


def test_every_golden_case_has_a_project() -> None:
    names = [c.name for c in golden_cases.cases()]
    assert {"example", "types", "reference"} <= set(names)
    for case in golden_cases.cases():
        assert (case.specs / "moosegen.yaml").is_file() or list(case.specs.glob("*.yaml")), case
