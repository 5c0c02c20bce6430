"""The build refuses incompatible schema changes and keeps the history append-only."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from moosegen.output import existing_files

from tests.helpers import REPO, moosegen

FINDING = (
    "specs/page_views.avsc:9:14: error[FIELD_ADDED_WITHOUT_DEFAULT]: the new schema "
    "cannot read data written with version 3: reader field 'session_id' of "
    "com.example.web.PageView is not in the writer and has no default "
    "(BACKWARD_TRANSITIVE against v3 of page_views; bump `version:` for a breaking change)"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(REPO / "specs", root / "specs", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        REPO / "generated", root / "generated", ignore=shutil.ignore_patterns("__pycache__")
    )
    return root


def snapshot(folder: Path) -> dict[str, bytes]:
    return {rel: (folder / rel).read_bytes() for rel in existing_files(folder)}


def add_field(root: Path, field: str) -> None:
    avsc = root / "specs" / "page_views.avsc"
    text = avsc.read_text()
    anchor = '    {"name": "url", "type": "string"},\n'
    assert anchor in text
    avsc.write_text(text.replace(anchor, anchor + f"    {field},\n"))


def test_example_stream_has_three_registered_versions() -> None:
    versions = sorted(p.name for p in (REPO / "specs" / "registry" / "page_views").iterdir())
    assert versions == ["v1.avsc", "v2.avsc", "v3.avsc"]


def test_incompatible_v4_is_refused_by_build_and_check(project: Path) -> None:
    add_field(project, '{"name": "session_id", "type": "string"}')
    registry, generated = snapshot(project / "specs" / "registry"), snapshot(project / "generated")
    for command in ("build", "check"):
        result = moosegen(command, "specs", cwd=project)
        assert result.returncode == 1, result.stderr
        assert FINDING in result.stderr.splitlines()
        assert len(result.stderr.splitlines()) == 3  # against v1, v2 and v3: transitive
    assert snapshot(project / "specs" / "registry") == registry
    assert snapshot(project / "generated") == generated


def test_compatible_change_is_stale_until_build_registers_it(project: Path) -> None:
    add_field(project, '{"name": "session_id", "type": "string", "default": ""}')
    check = moosegen("check", "specs", cwd=project)
    assert check.returncode == 1
    assert "error[REGISTRY_STALE]" in check.stderr and "as v4" in check.stderr
    assert not (project / "specs" / "registry" / "page_views" / "v4.avsc").exists()
    build = moosegen("build", "specs", cwd=project)
    assert build.returncode == 0, build.stderr
    # ids are unique in the project: the next one follows the highest registered
    index = json.loads((REPO / "specs" / "registry" / "index.json").read_text())
    next_id = max(v["id"] for versions in index.values() for v in versions) + 1
    assert f"registered page_views v4 (id {next_id})" in build.stderr
    v3 = (project / "specs" / "registry" / "page_views" / "v3.avsc").read_bytes()
    assert v3 == (REPO / "specs" / "registry" / "page_views" / "v3.avsc").read_bytes()
    assert moosegen("check", "specs", cwd=project).returncode == 0


def test_version_bump_allows_a_breaking_change_as_a_new_subject(project: Path) -> None:
    add_field(project, '{"name": "session_id", "type": "string"}')
    spec = project / "specs" / "page_views.yaml"
    spec.write_text(
        spec.read_text().replace("stream: page_views\n", "stream: page_views\nversion: 2\n")
    )
    result = moosegen("build", "specs", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "registered page_views_v2 v1" in result.stderr
    assert (project / "generated" / "page_views_v2" / "topics.json").exists()


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_check_against_a_git_ref(project: Path) -> None:
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "base")
    # A branch that rewrote its own history: the local registry no longer shows the break.
    shutil.rmtree(project / "specs" / "registry" / "page_views")
    index = project / "specs" / "registry" / "index.json"
    import json

    data = json.loads(index.read_text())
    del data["page_views"]
    index.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    add_field(project, '{"name": "session_id", "type": "string"}')
    assert moosegen("build", "specs", cwd=project).returncode == 0
    result = moosegen("check", "specs", "--against", "HEAD", cwd=project)
    assert result.returncode == 1
    assert FINDING in result.stderr.splitlines()
    unknown = moosegen("check", "specs", "--against", "no-such-branch", cwd=project)
    assert unknown.returncode == 2
    assert "no-such-branch" in unknown.stderr


def test_check_against_a_schema_registry_recorded_exchanges(project: Path) -> None:
    import json

    from tests.compat.recorded import serve_exchanges

    v1 = json.loads((project / "specs" / "registry" / "page_views" / "v1.avsc").read_text())
    v1["fields"] = [f for f in v1["fields"] if f["name"] != "url"]
    exchanges = {
        ("GET", "/subjects/page_views-value/versions"): (200, [1]),
        ("GET", "/subjects/page_views-value/versions/1"): (
            200,
            {"subject": "page_views-value", "version": 1, "id": 40, "schema": json.dumps(v1)},
        ),
    }
    with serve_exchanges(exchanges) as (url, seen):
        result = moosegen("check", "specs", "--registry", url, cwd=project)
    assert result.returncode == 1
    assert (
        "error[FIELD_ADDED_WITHOUT_DEFAULT]" in result.stderr
        and "reader field 'url'" in result.stderr
    ), result.stderr
    assert ("GET", "/subjects/page_views-value/versions") in [(m, p) for m, p, *_ in seen]
