"""Our reader/writer verdicts against Apache Avro Java's SchemaCompatibility itself.

Over 10,000 hypothesis-generated (reader, writer) pairs go to one JVM in one batch;
every verdict must agree, and so must the set of Java incompatibility types.
"""

from __future__ import annotations

import json
from typing import Any

from conftest import java_verdict
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from moosegen.compat import SchemaError, reader_writer_findings
from schemagen import Gen

N_PAIRS = 10_000


class _Draws:
    def __init__(self, draw: Any) -> None:
        self.draw = draw

    def int(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))


@st.composite
def reader_writer_pairs(draw: Any) -> tuple[Any, Any]:
    gen = Gen(_Draws(draw))
    writer = gen.schema()
    return gen.reader(writer), writer


def generate_pairs(n: int) -> list[tuple[Any, Any]]:
    """At least `n` distinct pairs: hypothesis runs again under a new seed until there are."""
    seen: dict[str, tuple[Any, Any]] = {}
    for run in range(20):
        if len(seen) >= n:
            break

        @seed(20240 + run)
        @settings(max_examples=int((n - len(seen)) * 1.5) + 100, database=None, deadline=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(reader_writer_pairs())
        def collect(pair: tuple[Any, Any]) -> None:
            seen.setdefault(json.dumps(pair, sort_keys=True), pair)

        collect()
    return list(seen.values())


def ours(reader: Any, writer: Any) -> tuple[str, list[str]]:
    try:
        findings = reader_writer_findings(reader, writer)
    except SchemaError as exc:
        return "ERROR", [str(exc)]
    if not findings:
        return "COMPATIBLE", []
    if any(f.code == "FIELD_AMBIGUOUS_ALIAS" for f in findings):
        return "ERROR", ["ambiguous field alias"]  # Java throws here
    return "INCOMPATIBLE", sorted({f.java_type for f in findings})


def compare(pairs: list[tuple[Any, Any]], java: list[str]) -> list[str]:
    problems = []
    for (reader, writer), line in zip(pairs, java, strict=True):
        expected, got = java_verdict(line), ours(reader, writer)
        if expected[0] != got[0] or (expected[0] == "INCOMPATIBLE" and expected[1] != got[1]):
            problems.append(f"java={line!r} ours={got!r}\n  pair={json.dumps([reader, writer])}")
    return problems


def test_differential_hypothesis_pairs_agree_with_avro_java(avro_oracle: Any) -> None:
    pairs = generate_pairs(N_PAIRS)
    assert len(pairs) >= N_PAIRS, f"only {len(pairs)} distinct pairs generated"
    java = avro_oracle(pairs)
    verdicts = [java_verdict(line)[0] for line in java]
    compatible = verdicts.count("COMPATIBLE") / len(verdicts)
    print(f"\n{len(pairs)} pairs, {compatible:.0%} compatible per Avro Java, "
          f"{verdicts.count('ERROR')} Java errors")
    assert verdicts.count("ERROR") == 0, [line for line in java if line.startswith("ERROR")][:5]
    assert 0.3 < compatible < 0.7, "the generator should give about half compatible pairs"
    problems = compare(pairs, java)
    assert not problems, f"{len(problems)} disagreements with Avro Java; first:\n" + \
        "\n".join(problems[:10])
