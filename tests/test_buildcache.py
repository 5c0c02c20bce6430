"""`check` and `build` answered from the build cache only while every input is unchanged."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from moosegen import buildcache

from tests.helpers import REPO, moosegen


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "project"
    shutil.copytree(REPO / "specs", root / "specs", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "MOOSEGEN_BUILD_CACHE": str(tmp_path / "cache")}
    built = moosegen("build", "specs", cwd=root, env=env)
    assert built.returncode == 0, built.stderr
    return root, env


def _records(env: dict[str, str]) -> list[Path]:
    return sorted(Path(env["MOOSEGEN_BUILD_CACHE"]).glob("*.json"))


def test_an_unchanged_project_is_answered_from_the_record(
    project: tuple[Path, dict[str, str]],
) -> None:
    root, env = project
    assert len(_records(env)) == 1
    again = moosegen("build", "specs", cwd=root, env=env)
    assert again.returncode == 0
    assert "(up to date)" in again.stderr
    assert moosegen("check", "specs", cwd=root, env=env).returncode == 0


def test_a_hand_edited_output_file_is_found(project: tuple[Path, dict[str, str]]) -> None:
    root, env = project
    models = root / "generated" / "events" / "models.py"
    models.write_text(models.read_text() + "# edited\n")
    check = moosegen("check", "specs", cwd=root, env=env)
    assert check.returncode == 1
    assert "CHANGED" in check.stderr and "events/models.py" in check.stderr
    extra = root / "generated" / "events" / "notes.txt"
    models.write_text(models.read_text().removesuffix("# edited\n"))
    extra.write_text("x\n")
    check = moosegen("check", "specs", cwd=root, env=env)
    assert check.returncode == 1 and "EXTRA" in check.stderr


def test_a_changed_spec_is_found(project: tuple[Path, dict[str, str]]) -> None:
    root, env = project
    spec = root / "specs" / "events.yaml"
    spec.write_text(spec.read_text().replace("partitions: 6", "partitions: 7"))
    check = moosegen("check", "specs", cwd=root, env=env)
    assert check.returncode == 1, check.stderr
    assert "events/topics.json" in check.stderr


def test_a_changed_user_template_invalidates(
    project: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, env = project
    templates = tmp_path / "templates"
    (templates / "topics").mkdir(parents=True)
    source = REPO / "templates" / "topics" / "topics.json.j2"
    (templates / "topics" / "topics.json.j2").write_text(source.read_text())
    built = moosegen("build", "specs", "--templates", str(templates), cwd=root, env=env)
    assert built.returncode == 0, built.stderr
    ok = moosegen("check", "specs", "--templates", str(templates), cwd=root, env=env)
    assert ok.returncode == 0, ok.stderr
    (templates / "topics" / "topics.json.j2").write_text(source.read_text() + "\n")
    stale = moosegen("check", "specs", "--templates", str(templates), cwd=root, env=env)
    assert stale.returncode == 1, stale.stderr
    assert "topics.json" in stale.stderr


def test_the_key_covers_the_generator_and_the_builtin_templates(tmp_path: Path) -> None:
    generator = tmp_path / "moosegen"
    shutil.copytree(REPO / "generator" / "moosegen", generator)
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    specs = REPO / "specs"

    def key() -> str:
        return buildcache.input_key(specs, None, generator, templates)

    before = key()
    assert key() == before
    runtime = generator / "runtime" / "runner.py"
    runtime.write_text(runtime.read_text() + "\n")
    after_generator = key()
    assert after_generator != before
    macro = templates / "topics" / "topics.json.j2"
    macro.write_text(macro.read_text() + " ")
    assert key() not in (before, after_generator)


def test_another_baseline_is_never_answered_from_the_record(
    project: tuple[Path, dict[str, str]],
) -> None:
    root, env = project
    # Not a git repository: the full path runs and refuses --against.
    check = moosegen("check", "specs", "--against", "HEAD", cwd=root, env=env)
    assert check.returncode == 2
    assert "git repository" in check.stderr
