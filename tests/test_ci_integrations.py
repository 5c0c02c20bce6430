"""The pre-commit hook and the documented GitHub Actions job run as a user's CI would."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers import REPO

PAGE_VIEWS_AVSC = "page_views.avsc"


def _project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "project"
    shutil.copytree(REPO / "specs", root / "specs", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "MOOSEGEN_BUILD_CACHE": str(tmp_path / "cache")}
    _moosegen(["build", "specs"], root, env, expect=0)
    return root, env


def _moosegen(
    args: list[str], cwd: Path, env: dict[str, str], expect: int
) -> subprocess.CompletedProcess[str]:
    # The console script `moosegen`, as the hooks name it, run from this interpreter.
    run = subprocess.run(
        [sys.executable, "-m", "moosegen", *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert run.returncode == expect, run.stdout + run.stderr
    return run


def _entry_args(command: str) -> list[str]:
    words = shlex.split(command)
    assert words[0] == "moosegen"
    return words[1:]


def test_the_pre_commit_hook_passes_a_clean_tree_and_fails_a_stale_one(tmp_path: Path) -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "moosegen-check"]
    assert hook["pass_filenames"] is False
    root, env = _project(tmp_path)
    args = _entry_args(hook["entry"]) + hook.get("args", [])
    _moosegen(args, root, env, expect=0)
    spec = root / "specs" / "events.yaml"
    spec.write_text(spec.read_text().replace("partitions: 6", "partitions: 8"))
    stale = _moosegen(args, root, env, expect=1)
    assert "events/topics.json" in stale.stderr


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_the_github_actions_job_annotates_a_breaking_change(tmp_path: Path) -> None:
    workflow = yaml.safe_load((REPO / "docs" / "github-actions.yml").read_text())
    steps = workflow["jobs"]["check"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    (command,) = [s["run"] for s in steps if s.get("run", "").startswith("moosegen ")]
    root, env = _project(tmp_path)
    _git(root, "init", "-q", "-b", "feature")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "base")
    _git(root, "update-ref", "refs/remotes/origin/main", "HEAD")
    args = _entry_args(command)
    _moosegen(args, root, env, expect=0)
    # A breaking change on the branch: a field without a default.
    avsc = root / "specs" / PAGE_VIEWS_AVSC
    text = avsc.read_text()
    anchor = '"fields": ['
    assert anchor in text
    avsc.write_text(text.replace(anchor, anchor + '\n    {"name": "tenant", "type": "string"},', 1))
    broken = _moosegen(args, root, env, expect=1)
    assert "::error file=specs/page_views.avsc" in broken.stdout + broken.stderr
    assert "FIELD_ADDED_WITHOUT_DEFAULT" in broken.stdout + broken.stderr
