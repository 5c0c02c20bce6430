"""Hostile specs: every one is refused with a located error, or builds into files that run on
the engine as exactly the statements intended (a hidden DROP or CREATE never executes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.clickhouse.conftest import build_into, diagnostics_of, write_specs
from moosegen.runtime.migrations import MARKER, MigrationError, apply_migrations, split_statements
from moosegen.runtime.sqltext import LINE_TERMINATORS, pieces

AVSC = json.dumps(
    {
        "type": "record",
        "name": "M",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "s", "type": "string", "default": ""},
        ],
    }
)
BASE = "stream: m\nschema: m.avsc\nkey: [id]\n"
DROP = "DROP TABLE canary"
LS = "\u2028"


def q(text: str) -> str:
    """`text` as a YAML scalar (JSON is YAML), escapes and all."""
    return json.dumps(text)


def table(key: str, value: str) -> str:
    return f"table:\n  {key}: {q(value)}"


def keys(key: str, value: str) -> str:
    return f"table:\n  {key}: [{q(value)}]"


def column(attr: str, value: str) -> str:
    return f"table:\n  columns:\n    s: {{{attr}: {q(value)}}}"


# (what, spec tail, yaml line of the refused value)
REFUSED = [
    ("heredoc hides ;", table("partition_by", f"$$x$$; {DROP}; SELECT 1"), 5),
    ("heredoc opens a quote", table("partition_by", f"$$$$; {DROP}; SELECT $$$$"), 5),
    ("tagged heredoc", table("partition_by", f"toYYYYMM(ts) + $t$a$t$; {DROP}"), 5),
    ("quote in heredoc", table("partition_by", f"$$'$$; {DROP}; SELECT '"), 5),
    ("word$ is no heredoc", keys("order_by", f"a$b$ ; {DROP} ; $b$"), 5),
    ("U+2028 marker in ttl", table("ttl", f"ts + INTERVAL 1 DAY{LS}{MARKER}{LS}{DROP}"), 5),
    ("U+2029 in ttl", table("ttl", "ts + INTERVAL 1 DAY\u2029"), 5),
    ("NEL in ttl", table("ttl", "ts\x85+ INTERVAL 1 DAY"), 5),
    ("VT in partition", table("partition_by", "toYYYYMM(ts)\x0b"), 5),
    ("FS in partition", table("partition_by", "toYYYYMM(ts)\x1c"), 5),
    ("CR in order_by", keys("order_by", "id\r"), 5),
    ("#! comment", table("partition_by", "toYYYYMM(ts) #! x"), 5),
    ("# comment", table("partition_by", "toYYYYMM(ts) # x"), 5),
    ("nested comment", table("ttl", f"ts /* /* */ ; {DROP} */"), 5),
    ("escaped quote", column("default", f"'a\\'; {DROP}; --"), 6),
    ("doubled quote", column("default", f"'a''; {DROP}"), 6),
    ("codec break-out", column("codec", f"ZSTD(3)); {DROP}; --"), 6),
    ("materialized", column("materialized", f"id; {DROP}"), 6),
    ("type override", column("type", f"String; {DROP}"), 6),
    ("type with heredoc", column("type", f"String DEFAULT $$x$$; {DROP}"), 6),
    ("primary key", keys("primary_key", f"id); {DROP}; --"), 5),
    ("setting name", f"table:\n  settings: {{{q(f'a = 1; {DROP}; --')}: 1}}", 5),
]


@pytest.mark.parametrize(("what", "tail", "line"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_with_a_located_error(what: str, tail: str, line: int, tmp_path: Path) -> None:
    specs = write_specs(tmp_path / "specs", {"m.yaml": BASE + tail + "\n", "m.avsc": AVSC})
    errors = [d for d in diagnostics_of(specs) if d.severity == "error"]
    assert [(d.path.endswith("m.yaml"), d.line) for d in errors] == [(True, line)], [
        d.text() for d in errors
    ]
    # A control character is refused by the spec loader itself, before any SQL is planned.
    codes = ("CH_BAD_EXPRESSION", "CH_BAD_TYPE", "CH_BAD_SETTING", "CONTROL_CHARACTER")
    assert errors[0].code in codes


def test_hostile_sharding_key_is_refused(tmp_path: Path) -> None:
    for key in (f"rand()) ENGINE = Log; {DROP}; --", f"$$x$$; {DROP}", f"rand(){LS}{DROP}"):
        specs = write_specs(
            tmp_path / "specs",
            {
                "m.yaml": BASE,
                "m.avsc": AVSC,
                "moosegen.yaml": f"cluster: {{name: main, sharding_key: {q(key)}}}\n",
            },
        )
        errors = [d for d in diagnostics_of(specs) if d.severity == "error"]
        assert [(d.code, d.path.endswith("m.yaml"), d.line) for d in errors] == [
            ("CH_BAD_EXPRESSION", True, 1)
        ], key


# (what, spec tail, files: spec name) — these build; every statement must run as intended.
BUILDS = [
    ("; inside heredoc", table("ttl", "ts + INTERVAL length($$a;b$$) * 100000 DAY"), "m.yaml"),
    ("; inside tagged heredoc", column("default", "$x$;$$;$x$"), "m.yaml"),
    ("; inside a literal", column("default", f"'; {DROP}; --'"), "m.yaml"),
    ("marker in a comment", column("comment", f"x\n{MARKER}\n{DROP};{LS}{MARKER}{LS}"), "m.yaml"),
    ("newline in the spec file name", "", f"m\n{MARKER}\n{DROP};\n.yaml"),
    ("U+2028 in the spec file name", "", f"m{LS}{MARKER}{LS}{DROP};.yaml"),
]


@pytest.mark.parametrize(("what", "tail", "spec_name"), BUILDS, ids=[b[0] for b in BUILDS])
def test_builds_run_exactly_as_intended(
    what: str, tail: str, spec_name: str, tmp_path: Path, client: Any, database: str
) -> None:
    specs = write_specs(tmp_path / "specs", {spec_name: BASE + tail + "\n", "m.avsc": AVSC})
    out = build_into(specs, tmp_path / "gen")
    client.command("CREATE TABLE canary (x Int8) ENGINE = Memory")
    for path in [out / "m" / "table.sql", *(out / "m" / "migrations").glob("*.sql")]:
        text = path.read_text()
        assert text.split("\n", 1)[0].startswith("-- Code generated by moosegen")
        # outside literals, the only line break is a line feed
        raw = "".join(p.text for p in pieces(text) if p.kind in ("code", "comment"))
        assert not (set(raw) & (LINE_TERMINATORS - {"\n"})), path.name
        statements = split_statements(text)
        assert len(statements) == 1, (path.name, statements)
        client.query("SELECT formatQuery({q:String})", parameters={"q": statements[0]})
    assert apply_migrations(client, out / "m" / "migrations", "m", database) == ["0001_create"]
    tables = client.query(
        "SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name",
        parameters={"db": database},
    ).result_rows
    # The runner's own two tables, the canary and the stream's table: nothing else.
    assert tables == [
        ("_moosegen_migration_locks",),
        ("_moosegen_migrations",),
        ("canary",),
        ("m",),
    ]
    described = [r[0] for r in client.query("DESCRIBE TABLE m").result_rows]
    assert described == ["id", "ts", "s"]
    client.insert(
        "m",
        [["k"], [0]],
        column_names=["id", "ts"],
        column_oriented=True,
        settings={"async_insert": 0},
    )
    assert client.command("SELECT count() FROM m") == 1


def test_spec_file_name_stays_in_its_comment(tmp_path: Path) -> None:
    name = f"m\n{MARKER}\n{DROP};\u2028x\x85.yaml"
    specs = write_specs(tmp_path / "specs", {name: BASE, "m.avsc": AVSC})
    text = (build_into(specs, tmp_path / "gen") / "m" / "table.sql").read_text()
    header = text.split("\n", 1)[0]
    assert header.startswith("-- Code generated by moosegen from ") and "\\x0a" in header
    assert "\\u2028" in header and "\\x85" in header
    assert not any(c in header for c in "\r\x85\u2028\u2029\x0b\x0c")


RUNNER_FILES = [
    ("two statements in one chunk", f"CREATE TABLE a (x Int8) ENGINE = Memory; {DROP}", None),
    ("; after a heredoc", f"SELECT $$x$$; {DROP}", None),
    ("unterminated literal", "SELECT 'x", None),
    ("unterminated comment", "SELECT 1 /* /* */", None),
    ("marker inside a literal", f"SELECT '\n{MARKER}\n{DROP}'", [f"SELECT '\n{MARKER}\n{DROP}'"]),
    ("marker after U+2028", f"SELECT 1 --{LS}{MARKER}{LS}{DROP}", ["SELECT 1"]),
    ("marker inside a block comment", f"SELECT 1 /*\n{MARKER}\n{DROP} */", ["SELECT 1"]),
    ("marker not at line start", f"SELECT 1 {MARKER}\nSELECT 2", ["SELECT 1 \nSELECT 2"]),
    ("CRLF lines", f"SELECT 1;\r\n{MARKER}\r\nSELECT 2;\r\n", ["SELECT 1", "SELECT 2"]),
]


@pytest.mark.parametrize(
    ("what", "text", "expected"), RUNNER_FILES, ids=[r[0] for r in RUNNER_FILES]
)
def test_runner_reads_files_by_structure(what: str, text: str, expected: list[str] | None) -> None:
    if expected is None:
        with pytest.raises(MigrationError):
            split_statements(text)
    else:
        assert split_statements(text) == expected


def test_runner_refuses_a_hostile_file_before_running_it(
    tmp_path: Path, client: Any, database: str
) -> None:
    client.command("CREATE TABLE canary (x Int8) ENGINE = Memory")
    folder = tmp_path / "mig"
    folder.mkdir()
    (folder / "0001_create.sql").write_text(
        f"-- header\nCREATE TABLE m (x Int8) ENGINE = Memory;\n{MARKER}\nSELECT $$x$$; {DROP};\n"
    )
    with pytest.raises(MigrationError, match="more than one statement"):
        apply_migrations(client, folder, "m", database)
    assert (
        client.command(
            f"SELECT count() FROM system.tables WHERE name = 'canary' AND database = '{database}'"
        )
        == 1
    )
