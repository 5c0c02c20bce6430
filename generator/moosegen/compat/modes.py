"""The seven compatibility modes over a subject's history (oldest version first).

BACKWARD: the candidate reads data written with the latest version (the new consumer
reads old data); FORWARD: the latest version reads data written with the candidate;
FULL: both. The *_TRANSITIVE modes check every version instead of the latest. NONE
checks nothing.

Pairwise findings speak of reader and writer; here they are restated from the
candidate's side: its JSON path, its `file:line:col`, and direction-aware codes
(a reader field missing a default is a field *added* without default when the
candidate reads, and a field *removed* when the candidate writes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from typing import TypeVar

from moosegen.compat.rules import RULES, Checker, Finding
from moosegen.schema.ir import AvroType


class Mode(str, Enum):
    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        return self.value.startswith(("FORWARD", "FULL"))


# Codes as seen from the candidate: (pairwise code, candidate is the reader?) -> code.
_AS_READER = {
    "READER_FIELD_MISSING_DEFAULT": "FIELD_ADDED_WITHOUT_DEFAULT",
    "READER_ENUM_MISSING_SYMBOLS": "ENUM_SYMBOL_REMOVED",
}
_AS_WRITER = {
    "READER_FIELD_MISSING_DEFAULT": "FIELD_REMOVED_WITHOUT_DEFAULT",
    "READER_ENUM_MISSING_SYMBOLS": "ENUM_SYMBOL_ADDED",
    "TYPE_NARROWED": "TYPE_WIDENED",
}

# Every code a mode check can report: code -> (category, meaning).
MODE_RULES: dict[str, tuple[str, str]] = {
    "FIELD_ADDED_WITHOUT_DEFAULT": (
        "FIELD",
        "the new schema adds a field without a default, so it cannot read old data",
    ),
    "FIELD_REMOVED_WITHOUT_DEFAULT": (
        "FIELD",
        "the new schema drops a field that an old reader needs and has no default for",
    ),
    "ENUM_SYMBOL_REMOVED": ("ENUM", "the new enum lacks symbols of the old one and has no default"),
    "ENUM_SYMBOL_ADDED": (
        "ENUM",
        "the new enum has symbols the old one lacks, and the old one has no default",
    ),
    "TYPE_WIDENED": (
        "TYPE",
        "the new type is wider than the old (e.g. int became long): old readers cannot hold it",
    ),
    **{
        code: (cat, meaning)
        for code, (cat, meaning, _) in RULES.items()
        if code not in ("READER_FIELD_MISSING_DEFAULT", "READER_ENUM_MISSING_SYMBOLS")
    },
}


def parse_mode(mode: Mode | str) -> Mode:
    try:
        return mode if isinstance(mode, Mode) else Mode(str(mode).upper())
    except ValueError:
        raise ValueError(
            f"unknown compatibility mode {mode!r}: expected one of "
            f"{', '.join(m.value for m in Mode)}"
        ) from None


def restated(
    f: Finding, candidate_reads: bool, version: int | None, code: str, category: str, verb: str
) -> Finding:
    """A pairwise finding said from the candidate's side, against `version`; `verb` says
    what a reader does to data it cannot take ("cannot read data written with")."""
    if candidate_reads:
        path, loc = f.reader_path, f.reader_loc
        direction = f"the new schema {verb} version {version}"
    else:
        path, loc = f.writer_path, f.writer_loc
        direction = f"version {version} {verb} the new schema"
    return f.with_(
        code=code,
        category=category,
        path=path,
        loc=loc,
        against_version=version,
        message=f"{direction}: {f.message}",
    )


def _restate(f: Finding, *, candidate_reads: bool, version: int | None) -> Finding:
    code = (_AS_READER if candidate_reads else _AS_WRITER).get(f.code, f.code)
    verb = "cannot read data written with"
    return restated(f, candidate_reads, version, code, MODE_RULES[code][0], verb)


S = TypeVar("S")


def findings_over_history(
    candidate: S,
    history: Sequence[tuple[int, S]],
    mode: Mode | str,
    pairwise: Callable[[S, S], Iterable[Finding]],
    restate: Callable[[Finding, bool, int], Finding],
) -> list[Finding]:
    """A mode over a history [(version, schema), ...], oldest first, for any schema
    language: `pairwise(reader, writer)` finds, `restate(finding, candidate_reads,
    version)` says it from the candidate's side."""
    mode = parse_mode(mode)
    if mode is Mode.NONE or not history:
        return []
    against = list(history) if mode.transitive else [history[-1]]
    findings: list[Finding] = []
    for version, old in reversed(against):  # newest first, as registries report
        if mode.backward:
            findings += [restate(f, True, version) for f in pairwise(candidate, old)]
        if mode.forward:
            findings += [restate(f, False, version) for f in pairwise(old, candidate)]
    return findings


def check_history(
    candidate: AvroType, history: Sequence[tuple[int, AvroType]], mode: Mode | str
) -> list[Finding]:
    """Findings of `candidate` against `history` [(version, schema), ...], oldest first."""
    return findings_over_history(
        candidate,
        history,
        mode,
        lambda reader, writer: Checker().check(reader, writer),
        lambda f, reads, version: _restate(f, candidate_reads=reads, version=version),
    )
