"""Golden cases, sqlc-style: each `tests/golden/<case>/` names a project and its expected tree.

A case folder holds `specs/` and `expected/`, or a `case.json` pointing elsewhere
(paths relative to the repository root), so a project kept for other tests, or
the example project with its committed `generated/`, needs no second copy:

    {"specs": "tests/corpus/types/specs", "expected": "generated", "runtime": true}

`runtime: true` compares the vendored `_runtime/` and the manifest too; other
cases leave them out (the example case holds them), so a runtime change touches
one tree. Regenerate every case (or the named ones) with

    scripts/update-golden [CASE ...]   # = PYTHONPATH=generator python -m tests.golden_cases
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from moosegen.build import generate
from moosegen.output import MANIFEST, existing_files, write_tree

from tests.helpers import REPO

GOLDEN = REPO / "tests" / "golden"


@dataclass(frozen=True)
class Case:
    name: str
    specs: Path
    expected: Path
    runtime: bool

    def wanted(self, files: dict[str, bytes]) -> dict[str, bytes]:
        """The part of a build this case compares."""
        if self.runtime:
            return files
        return {
            rel: body
            for rel, body in files.items()
            if rel != MANIFEST and not rel.startswith("_runtime/")
        }

    def build(self) -> dict[str, bytes]:
        result = generate(self.specs)
        if not result.ok:
            problems = "\n".join(d.text() for d in result.diagnostics)
            raise AssertionError(f"golden case {self.name} does not build:\n{problems}")
        return self.wanted(result.files)

    def present(self) -> dict[str, bytes]:
        """The expected tree as committed (the compared part of it)."""
        if not self.expected.is_dir():
            return {}
        found = {rel: (self.expected / rel).read_bytes() for rel in existing_files(self.expected)}
        return self.wanted({rel: b for rel, b in found.items() if "__pycache__" not in rel})


def load_case(folder: Path) -> Case:
    config_file = folder / "case.json"
    config = json.loads(config_file.read_text()) if config_file.is_file() else {}
    specs = REPO / config["specs"] if "specs" in config else folder / "specs"
    expected = REPO / config["expected"] if "expected" in config else folder / "expected"
    return Case(folder.name, specs, expected, bool(config.get("runtime", False)))


def cases() -> list[Case]:
    return [load_case(p) for p in sorted(GOLDEN.iterdir()) if p.is_dir() and p.name[0] != "_"]


def update(case: Case) -> None:
    """Replace the case's expected tree by what the current generator builds."""
    files = case.build()
    if case.runtime:  # a whole output tree, manifest included: written as `build` writes it
        write_tree(case.expected, files)
        return
    if case.expected.is_dir():
        shutil.rmtree(case.expected)
    for rel, body in sorted(files.items()):
        path = case.expected / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def main(names: list[str]) -> int:
    selected = [c for c in cases() if not names or c.name in names]
    unknown = set(names) - {c.name for c in selected}
    if unknown:
        print(f"unknown golden case(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    for case in selected:
        update(case)
        print(f"{case.name}: {len(case.present())} files in {case.expected.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
