"""The command line: help everywhere, fast start without the heavy clients."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import moosegen


@pytest.mark.parametrize("command", [[], ["build"], ["check"]])
def test_help(command: list[str]) -> None:
    result = moosegen(*command, "--help")
    assert result.returncode == 0
    assert "Usage:" in result.stdout


def test_cli_does_not_import_kafka_or_clickhouse_clients() -> None:
    code = (
        "import sys; from moosegen import cli, build; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('confluent_kafka', 'clickhouse_connect', 'chdb')]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_specs_folder_is_a_usage_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = moosegen("build", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
