"""Transitive compatibility check: moosegen's engine vs the Python `avro` package.

A subject with 100 registered versions of a 200-field record (nested records, enums,
arrays, maps, unions; each version adds a defaulted field, so the whole history is
FULL_TRANSITIVE-compatible and every check walks every field), and a candidate one
step further. Both engines check the candidate under
FULL_TRANSITIVE (candidate reads each version, each version reads the candidate:
200 reader/writer pairs), with schemas parsed beforehand; parse time (best of 3 for
both engines) is reported separately, then the ratio of parse + check together, which
is what a user running the check on registry text pays.
Run:  PYTHONPATH=generator python bench/compat_transitive.py
"""

from __future__ import annotations

import gc
import json
import time
from typing import Any

N_VERSIONS = 100
N_FIELDS = 200


def field(i: int, widened: bool) -> dict[str, Any]:
    kind = i % 8
    name = f"f{i:03d}"
    if kind == 0:
        return {"name": name, "type": "long" if widened else "int"}
    if kind == 1:
        return {"name": name, "type": "string"}
    if kind == 2:
        return {"name": name, "type": ["null", "double"], "default": None}
    if kind == 3:
        return {"name": name,
                "type": {"type": "enum", "name": f"E{i}", "symbols": ["A", "B", "C"]}}
    if kind == 4:
        return {"name": name, "type": {"type": "array", "items": "long"}}
    if kind == 5:
        return {"name": name, "type": {"type": "map", "values": ["null", "string"]}}
    if kind == 6:
        return {"name": name, "type": {"type": "record", "name": f"R{i}", "fields": [
            {"name": "a", "type": "int"}, {"name": "b", "type": ["null", "string"],
                                            "default": None}]}}
    return {"name": name, "type": "boolean", "default": False}


def version(v: int) -> dict[str, Any]:
    """Version v (1-based): the 200 base fields plus v-1 defaulted extras."""
    fields = [field(i, widened=False) for i in range(N_FIELDS)]
    fields += [{"name": f"extra{j}", "type": "string", "default": ""} for j in range(v - 1)]
    return {"type": "record", "name": "Big", "namespace": "bench", "fields": fields}


def timed(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    """Best time of `repeat` runs, each from a collected heap without the last run's
    result, so that neither engine pays for garbage the other (or itself) left."""
    best, out = float("inf"), None
    for _ in range(repeat):
        out = None
        gc.collect()
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    history_json = [json.dumps(version(v)) for v in range(1, N_VERSIONS + 1)]
    candidate_json = json.dumps(version(N_VERSIONS + 1))

    from moosegen.compat import check, load_schema

    t_parse_ours, (cand_ir, hist_ir) = timed(
        lambda: (load_schema(candidate_json), [load_schema(s) for s in history_json]))
    t_ours, result = timed(lambda: check(cand_ir, hist_ir, "FULL_TRANSITIVE"))

    import avro.schema
    from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

    t_parse_avro, (cand_av, hist_av) = timed(
        lambda: (avro.schema.parse(candidate_json),
                 [avro.schema.parse(s) for s in history_json]))

    def avro_full_transitive() -> bool:
        ok = True
        for old in hist_av:
            for reader, writer in ((cand_av, old), (old, cand_av)):
                res = ReaderWriterCompatibilityChecker().get_compatibility(reader, writer)
                ok &= res.compatibility is SchemaCompatibilityType.compatible
        return ok

    t_avro, avro_ok = timed(avro_full_transitive)

    print(f"FULL_TRANSITIVE: candidate vs {N_VERSIONS} versions of a {N_FIELDS}-field record "
          f"({2 * N_VERSIONS} reader/writer checks), best of 3")
    print(f"  verdicts: moosegen={result.compatible} ({len(result.findings)} findings), "
          f"avro={avro_ok}")
    print(f"  moosegen.compat : {t_ours * 1000:9.1f} ms  "
          f"(parse: {t_parse_ours * 1000:.0f} ms)")
    print(f"  avro (python)   : {t_avro * 1000:9.1f} ms  "
          f"(parse: {t_parse_avro * 1000:.0f} ms)")
    print(f"  ratio avro/moosegen: check {t_avro / t_ours:.2f}x, "
          f"parse {t_parse_avro / t_parse_ours:.2f}x, "
          f"parse + check {(t_parse_avro + t_avro) / (t_parse_ours + t_ours):.2f}x")


if __name__ == "__main__":
    main()
