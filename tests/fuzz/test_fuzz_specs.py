"""Property: no spec folder, however hostile, crashes, hangs or escapes moosegen.

Each example is the example project changed by one to three mutations (see
`mutations.py`), run through `moosegen build` and `moosegen check` in process. For any
input: exit 0, 1 (with findings) or 2; no traceback; every diagnostic at a position that
exists; nothing written outside the project's output (and the registry it appends
to); every generated `.py` compiles. The budget is fixed and derandomized for CI; set
MOOSEGEN_FUZZ_EXAMPLES for a longer run, or use `scripts/fuzz-specs N`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moosegen.cli import main

from tests.fuzz.checks import DIAGNOSTIC, changed_paths, compile_problems, output_problems, snapshot
from tests.fuzz.mutations import MUTATIONS, make_case

TIMEOUT_S = 10
PLANS = st.lists(
    st.tuples(st.sampled_from(sorted(MUTATIONS)), st.integers(0, 2**32 - 1)),
    min_size=1,
    max_size=3,
)


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(project: Path, args: list[str]) -> tuple[int, str]:
    """Exit code and stdout+stderr of one in-process run; a crash is reported as such.
    The build cache lives next to the project, where the snapshot sees it."""
    env = {"MOOSEGEN_BUILD_CACHE": str(project.parent / "cache")}
    with contextlib.chdir(project), time_limit(TIMEOUT_S):
        result = CliRunner(env=env).invoke(main, args, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        raise AssertionError(f"moosegen {' '.join(args)} raised:\n{trace}")
    return result.exit_code, result.stdout + result.stderr


def allowed_change(rel: str) -> bool:
    """The build may write its output inside the project, and append to the registry."""
    parts = rel.split("/")
    if parts[0] == "cache":
        return True
    if parts[0] != "project" or len(parts) < 2:
        return False
    return parts[1] != "specs" or (len(parts) > 2 and parts[2] == "registry")


@settings(
    max_examples=int(os.environ.get("MOOSEGEN_FUZZ_EXAMPLES", "200")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(plan=PLANS)
def test_no_spec_crashes_hangs_or_escapes(plan: list[tuple[str, int]]) -> None:
    with tempfile.TemporaryDirectory(prefix="moosegen-fuzz-") as tmp:
        root = Path(tmp)
        project = make_case(root, plan)
        before = snapshot(root)
        for args in (["build", "specs"], ["check", "specs"]):
            code, output = run_cli(project, args)
            assert code in (0, 1, 2), (args, code, output)
            if code == 1:
                assert any(DIAGNOSTIC.match(line) for line in output.splitlines()), output
            assert output_problems(output, project) == [], output
        escaped = [p for p in changed_paths(before, snapshot(root)) if not allowed_change(p)]
        assert escaped == []
        assert compile_problems(project, skip=project / "specs") == []
