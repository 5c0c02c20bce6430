"""The JSON Schema change corpus: one case per file in jsonschema_cases/.

Each case is a change from `writer` (the old schema) to `reader` (the new one):
`backward` lists the codes `check(reader, [writer], "BACKWARD")` reports (can the new
schema validate everything the old one did?), `forward` those of FORWARD (can the
old one validate everything the new one does?), each as seen from the new schema;
an empty list means compatible. `registry_differs` maps a direction to the reason a
live registry decides it the other way; `offline_only` says why a case is never sent
to a registry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CASES_DIR = Path(__file__).resolve().parent / "jsonschema_cases"
DIRECTIONS = ("BACKWARD", "FORWARD")


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    reason: str
    draft: str
    writer: Any
    reader: Any
    expected: dict[str, list[str]]
    registry_differs: dict[str, str] = field(default_factory=dict)
    offline_only: str = ""


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.json")):
        body = json.loads(path.read_text())
        cases.append(
            Case(
                path.stem,
                path,
                body["reason"],
                body["draft"],
                body["writer"],
                body["reader"],
                {"BACKWARD": body["backward"], "FORWARD": body["forward"]},
                body.get("registry_differs", {}),
                body.get("offline_only", ""),
            )
        )
    return cases
