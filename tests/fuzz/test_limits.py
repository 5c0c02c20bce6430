"""The loader's limits, one class of hostile input each (the fuzz test mixes them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from moosegen.diagnostics import Diagnostic
from moosegen.sourcemap import MAX_DEPTH, LoadError, load_json, load_yaml
from moosegen.spec.files import MAX_FILE_BYTES, SourceFileError, read_text
from moosegen.spec.load import load_project
from moosegen.verify import check_python

RECORD = '{"type": "record", "name": "Thing", "fields": [{"name": "id", "type": "string"}]}\n'


def billion_laughs(levels: int) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def yaml_error(text: str) -> Diagnostic:
    with pytest.raises(LoadError) as caught:
        load_yaml(text, "s.yaml")
    return caught.value.diagnostic


@pytest.mark.parametrize("levels", [6, 12])
def test_alias_bomb_is_refused_where_it_expands(levels: int) -> None:
    found = yaml_error(billion_laughs(levels))
    assert (found.code, found.line) == ("YAML_ALIAS_BOMB", 6)


def test_aliases_within_bounds_still_load() -> None:
    data, _ = load_yaml(billion_laughs(4), "s.yaml")
    assert len(data["a3"]) == 9 and data["a3"][0][0][0] == ["lol"] * 9


@pytest.mark.parametrize(
    "text", ["a: &a [*a]\n", "a: &a {x: *a}\n", "a: &a {<<: *a}\n", "a: &a [[[*a]]]\n"]
)
def test_recursive_alias_is_refused(text: str) -> None:
    assert yaml_error(text).code == "YAML_ALIAS_BOMB"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 10_000, 200_000])
def test_deep_yaml_is_refused_not_a_recursion_error(depth: int) -> None:
    found = yaml_error("a: " + "[" * depth + "]" * depth + "\n")
    assert (found.code, found.line) == ("TOO_DEEP", 1)


def test_deep_merge_chain_is_refused() -> None:
    text = "m0: &m0 {x: 1}\n" + "".join(f"m{i}: &m{i} {{<<: *m{i - 1}}}\n" for i in range(1, 500))
    assert yaml_error(text).code == "TOO_DEEP"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_deep_json_is_refused(depth: int) -> None:
    with pytest.raises(LoadError) as caught:
        load_json("[" * depth + "]" * depth, "s.avsc")
    assert (caught.value.diagnostic.code, caught.value.diagnostic.col) == (
        "TOO_DEEP",
        MAX_DEPTH + 1,
    )


def test_nesting_up_to_the_limit_loads() -> None:
    assert load_json("[" * MAX_DEPTH + "]" * MAX_DEPTH, "s.avsc")[0] is not None
    assert load_yaml("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1), "s.yaml")[0]


@pytest.mark.parametrize(
    ("text", "code", "col"),
    [
        ("a: 2001-13-45\n", "YAML_BAD_VALUE", 4),
        ("a: " + "9" * 5000 + "\n", "YAML_BAD_VALUE", 4),
        ("a: b\x07c\n", "CONTROL_CHARACTER", 5),
    ],
)
def test_bad_scalars_are_located(text: str, code: str, col: int) -> None:
    found = yaml_error(text)
    assert (found.code, found.line, found.col) == (code, 1, col)


def test_json_number_too_long_is_located() -> None:
    with pytest.raises(LoadError) as caught:
        load_json('{"a": ' + "9" * 5000 + "}", "s.avsc")
    assert (caught.value.diagnostic.line, caught.value.diagnostic.col) == (1, 7)


def test_positions_count_only_newlines() -> None:
    # The YAML reader breaks lines at U+2028 too; editors (and diagnostics) do not.
    _, smap = load_yaml("a: 'x\u2028y'\nb: 1\n", "s.yaml")
    assert smap.pos(("b",)) == (2, 4)


def read_error(path: Path) -> Diagnostic:
    with pytest.raises(SourceFileError) as caught:
        read_text(path, path.name)
    return caught.value.diagnostic


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "s.avsc")
    assert read_error(tmp_path / "s.avsc").code == "NOT_A_FILE"


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_device_is_refused(tmp_path: Path, device: str) -> None:
    (tmp_path / "s.avsc").symlink_to(device)
    assert read_error(tmp_path / "s.avsc").code == "NOT_A_FILE"


def test_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "s.avsc").mkdir()
    assert read_error(tmp_path / "s.avsc").message == "a folder, not a file"


def test_a_huge_file_is_refused_unread(tmp_path: Path) -> None:
    with (tmp_path / "s.avsc").open("wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    assert read_error(tmp_path / "s.avsc").code == "FILE_TOO_LARGE"


def test_invalid_utf8_points_at_the_byte(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_bytes(
        "a: 1\nb: é\xff\n".encode("utf-8", "surrogateescape")[:-2] + b"\xff\n"
    )
    found = read_error(tmp_path / "s.yaml")
    assert (found.code, found.line, found.col) == ("ENCODING", 2, 5)


def project(tmp_path: Path, spec: str = "stream: things\nschema: thing.avsc\n") -> Path:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "thing.avsc").write_text(RECORD)
    (specs / "things.yaml").write_text(spec)
    return specs


def codes(specs: Path) -> list[str]:
    return [d.code for d in load_project(specs).diagnostics if d.severity == "error"]


def test_symlink_loops_in_the_specs_folder_are_not_followed(tmp_path: Path) -> None:
    specs = project(tmp_path)
    (specs / "loop").symlink_to(".")
    (specs / "up").symlink_to("..")
    assert codes(specs) == []


def test_a_schema_linked_from_outside_is_refused(tmp_path: Path) -> None:
    specs = project(tmp_path)
    (tmp_path / "secret.avsc").write_text(RECORD)
    (specs / "thing.avsc").unlink()
    (specs / "thing.avsc").symlink_to(tmp_path / "secret.avsc")
    assert codes(specs) == ["PATH_ESCAPE", "PATH_ESCAPE"]  # the link, and the spec using it


def test_a_registry_file_linked_from_outside_is_refused(tmp_path: Path) -> None:
    specs = project(tmp_path)
    (specs / "registry" / "things").mkdir(parents=True)
    (tmp_path / "secret.avsc").write_text(RECORD)
    (specs / "registry" / "things" / "v1.avsc").symlink_to(tmp_path / "secret.avsc")
    assert codes(specs) == ["REGISTRY_INVALID"]


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ("[]", "must be an object of subjects"),
        ('{"../x": []}', "invalid subject"),
        (
            '{"things": [{"version": 2, "id": 1, "fingerprint": "0123456789abcdef"}]}',
            "expected version 1",
        ),
        (
            '{"things": [{"version": 1, "id": "1", "fingerprint": "0123456789abcdef"}]}',
            "positive integer",
        ),
        ('{"things": [{"version": 1, "id": 1}]}', "has 'version', 'id', 'fingerprint'"),
        ('{"things": [{"version": 1, "id": 1, "fingerprint": "0123456789abcdef"}]}', "is missing"),
    ],
)
def test_a_malformed_registry_index_is_located(tmp_path: Path, index: str, message: str) -> None:
    specs = project(tmp_path)
    (specs / "registry").mkdir()
    (specs / "registry" / "index.json").write_text(index)
    found = [d for d in load_project(specs).diagnostics if d.code == "REGISTRY_INVALID"]
    assert len(found) == 1 and message in found[0].message, found


def test_generated_python_is_compiled_before_writing() -> None:
    files = {
        "things/models.py": b"x = 1\n",
        "things/service.py": b"def f(:\n",
        "things/__main__.py": b"x = '\x00'\n",
        "things/table.sql": b"not python",
    }
    found = check_python(files, {"things": "specs/things.yaml"})
    assert [(d.path, d.code) for d in found] == [("specs/things.yaml", "GENERATED_INVALID")] * 2
    assert "things/__main__.py" in found[0].message and "things/service.py" in found[1].message


def test_control_characters_are_refused_except_in_a_bytes_default(tmp_path: Path) -> None:
    specs = project(tmp_path)
    (specs / "thing.avsc").write_text(
        '{"type": "record", "name": "Thing", "doc": "a\\u0007", "fields": ['
        '{"name": "id", "type": "string"}, {"name": "b", "type": "bytes", "default": "\\u0001"}]}'
    )
    found = [d for d in load_project(specs).diagnostics if d.severity == "error"]
    assert [(d.code, d.col) for d in found] == [("CONTROL_CHARACTER", 44)]
