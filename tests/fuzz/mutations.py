"""Hostile variants of the example project, shared by the fuzz test and `scripts/fuzz-specs`.

A case is the example `specs/` copied into `<root>/project/specs`, next to an
`<root>/outside/` folder that symlinks may point into, then changed by a plan: a list
of (mutation, seed) pairs. Same plan, same case.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "specs"

HOSTILE = [
    "class",
    "None",
    "True",
    "self",
    "model_dump",
    "model_config",
    "model_fields",
    "schema",
    "json",
    "dict",
    "copy",
    "validate",
    "parse_obj",
    "_private",
    "__init__",
    "__class__",
    "BaseModel",
    "Field",
    "Decimal",
    "Enum",
    "Any",
    "ClassVar",
    "TypedDict",
    "avro_codec",
    "Annotated",
    "x'y",
    'x"y',
    'x"""y',
    "x'''y",
    "a\\b",
    "a\\",
    "a\nb",
    "a\rb",
    "a\tb",
    "a\u2028b",
    "a\x85b",
    "\x00",
    "\x1b[31m",
    "\x7f",
    "{{ x }}",
    "{% raw %}",
    "{#",
    "${X}",
    "%s%n",
    "__import__('os').system('id')",
    "a\nRUN rm -rf /",
    "é",
    "ǅx",
    "名字",
    "ﬁeld",
    "1abc",
    "",
    " ",
    "a" * 300,
    "a.b",
    "a..b",
    ".a",
    "a-b",
    "a:b",
    "a:b:c",
    "os:system",
    "class.x:y",
    "../x",
    "../../elsewhere",
    "/etc/passwd",
    "x; DROP TABLE t",
    "`x`",
    "#",
    "--",
    "\\N",
    "a b",
    "CON",
    "registry",
    "_runtime",
    "__pycache__",
]
# Valid Avro names and docs that still have to survive every generator.
VALID_NAMES = [h for h in HOSTILE if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", h)] + [
    "list",
    "dict",
    "set",
    "tuple",
    "type",
    "object",
    "str",
    "print",
    "Optional",
    "datetime",
    "Literal",
    "name",
    "value",
    "mro",
    "_value_",
    "_missing_",
    "A" * 200,
]
VALID_DOCS = [h for h in HOSTILE if not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", h)]
RANDOM_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    10**30,
    1.5,
    float("inf"),
    [],
    {},
    [1, 2],
    {"a": 1},
    "",
    "x" * 5000,
]

NAMED = ("record", "error", "enum", "fixed")
Mutation = Callable[[Path, Path, random.Random], None]


def make_case(root: Path, plan: list[tuple[str, int]]) -> Path:
    """Build the case of `plan` under `root`; returns the project folder (holding specs/)."""
    project = root / "project"
    outside = root / "outside"
    shutil.copytree(EXAMPLE, project / "specs", ignore=shutil.ignore_patterns("__pycache__"))
    outside.mkdir()
    (outside / "secret.avsc").write_text(
        '{"type": "record", "name": "Secret", "fields": [{"name": "s", "type": "string"}]}\n'
    )
    shutil.copytree(EXAMPLE / "registry", outside / "registry")
    for name, seed in plan:
        with contextlib.suppress(OSError):  # an earlier mutation left nothing to change
            MUTATIONS[name](project / "specs", outside, random.Random(seed))
    return project


# ---------------------------------------------------------------- helpers


def _files(specs: Path, *suffixes: str, registry: bool = False) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(specs):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath, name)
            in_registry = path.relative_to(specs).parts[0] == "registry"
            regular = path.is_file() and not path.is_symlink()
            wanted = not suffixes or name.endswith(suffixes)
            if regular and wanted and (registry or not in_registry):
                found.append(path)
    return found


def _pick(rng: random.Random, paths: list[Path]) -> Path | None:
    return rng.choice(paths) if paths else None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


def _any_input(specs: Path) -> list[Path]:
    return _files(specs, ".yaml", ".yml", ".avsc", ".json", registry=True)


def _load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    if path.suffix in (".avsc", ".json"):
        return json.loads(text)
    if "&" in text or len(text) > 100_000:  # an alias bomb would expand here too
        raise ValueError("not mutated as a tree")
    return yaml.safe_load(text)


def _dump(path: Path, data: Any, rng: random.Random) -> None:
    if path.suffix in (".avsc", ".json"):
        text = json.dumps(data, indent=2, ensure_ascii=rng.random() < 0.5)
    else:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=rng.random() < 0.5)
    path.write_text(text, encoding="utf-8", errors="surrogateescape")


def _slots(data: Any) -> list[tuple[Any, Any, bool]]:
    """Every (container, key or index, is_key) of a parsed document, iteratively."""
    out: list[tuple[Any, Any, bool]] = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                out += [(node, k, True), (node, k, False)]
                stack.append(v)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                out.append((node, i, False))
                stack.append(v)
    return out


def _mutate_tree(specs: Path, rng: random.Random, value: Callable[[random.Random], Any]) -> None:
    path = _pick(rng, [p for p in _any_input(specs) if p.is_file()])
    if path is None:
        return
    try:
        data = _load(path)
    except (ValueError, RecursionError, yaml.YAMLError):
        return
    slots = _slots(data)
    if not slots:
        return
    container, key, is_key = rng.choice(slots)
    new = value(rng)
    if is_key:
        if isinstance(new, str | int | bool) and new not in container:
            container[new] = container.pop(key)
    else:
        container[key] = new
    _dump(path, data, rng)


def _insert_bytes(path: Path, rng: random.Random, payload: bytes) -> None:
    data = path.read_bytes()
    at = rng.randrange(len(data) + 1)
    path.write_bytes(data[:at] + payload + data[at:])


# ---------------------------------------------------------------- mutations


def hostile_name(specs: Path, outside: Path, rng: random.Random) -> None:
    _mutate_tree(specs, rng, lambda r: r.choice(HOSTILE))


def random_value(specs: Path, outside: Path, rng: random.Random) -> None:
    _mutate_tree(specs, rng, lambda r: r.choice(RANDOM_VALUES))


def valid_hostile_name(specs: Path, outside: Path, rng: random.Random) -> None:
    """A name, symbol or doc of a schema replaced by one that is valid but hostile, under
    compatibility NONE, so that the build goes on to the generators."""
    path = _pick(rng, _files(specs, ".avsc"))
    if path is None:
        return
    try:
        data = _load(path)
    except (ValueError, RecursionError):
        return
    slots = [
        (container, key)
        for container, key, is_key in _slots(data)
        if not is_key
        and isinstance(container, dict | list)
        and (
            key == "doc"
            or (key in ("name", "namespace") and container.get("type") in NAMED)
            or isinstance(container, list)
        )
        and isinstance(container[key], str)
    ]
    if not slots:
        return
    container, key = rng.choice(slots)
    container[key] = rng.choice(VALID_DOCS if key == "doc" else VALID_NAMES)
    _dump(path, data, rng)
    for spec in _files(specs, ".yaml"):
        old = spec.read_text(encoding="utf-8", errors="surrogateescape")
        new = re.sub(r"(?m)^compatibility: \w+", "compatibility: NONE", old)
        spec.write_text(new, encoding="utf-8", errors="surrogateescape")


def deep_yaml(specs: Path, outside: Path, rng: random.Random) -> None:
    path = _pick(rng, _files(specs, ".yaml"))
    if path is None:
        return
    n = rng.choice([30, 63, 64, 65, 200, 5000, 50_000])
    opener, closer = rng.choice([("[", "]"), ("{a: ", "}"), ("- ", "")])
    if opener == "- ":
        body = "".join("  " * i + "- \n" for i in range(min(n, 2000))) + "  " * n + "- x\n"
        text = "deep:\n" + body
    else:
        text = f"deep: {opener * n}{closer * n}\n"
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


def deep_json(specs: Path, outside: Path, rng: random.Random) -> None:
    path = _pick(rng, _files(specs, ".avsc", registry=rng.random() < 0.3))
    if path is None:
        return
    n = rng.choice([10, 20, 40, 63, 64, 65, 300, 5000, 100_000])
    if rng.random() < 0.5:
        inner = '{"type": "array", "items": ' * n + '"string"' + "}" * n
    else:
        inner = "[" * n + "]" * n
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    marker = '"type": "string"'
    if marker in text:
        text = text.replace(marker, f'"type": {inner}', 1)
    else:
        text = inner
    path.write_text(text, encoding="utf-8", errors="surrogateescape")


def alias_bomb(specs: Path, outside: Path, rng: random.Random) -> None:
    path = _pick(rng, _files(specs, ".yaml"))
    if path is None:
        return
    style = rng.randrange(4)
    if style == 0:  # billion laughs
        lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        for i in range(1, rng.choice([3, 5, 9, 12])):
            prev = f"*a{i - 1}"
            lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
        text = "\n".join(lines) + "\n"
    elif style == 1:  # recursive
        text = rng.choice(["loop: &l [*l]\n", "loop: &l {x: *l}\n", "loop: &l {<<: *l}\n"])
    elif style == 2:  # merge chain
        n = rng.choice([10, 100, 2000])
        text = "m0: &m0 {x: 1}\n" + "".join(f"m{i}: &m{i} {{<<: *m{i - 1}}}\n" for i in range(1, n))
    else:  # an alias where a spec value belongs
        text = "x-topic: &t {partitions: 3}\n"
    old = path.read_text(encoding="utf-8", errors="surrogateescape")
    path.write_text(text + old, encoding="utf-8", errors="surrogateescape")


def bad_utf8(specs: Path, outside: Path, rng: random.Random) -> None:
    path = _pick(rng, [p for p in _any_input(specs) if p.is_file()])
    if path is not None:
        _insert_bytes(
            path, rng, rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xe2\x82", b"\x80"])
        )


def control_char(specs: Path, outside: Path, rng: random.Random) -> None:
    path = _pick(rng, [p for p in _any_input(specs) if p.is_file()])
    if path is None:
        return
    if rng.random() < 0.5:
        _insert_bytes(path, rng, bytes([rng.choice([0, 1, 7, 8, 11, 12, 27, 127])]))
        return
    escape = rng.choice(["\\0", "\\x01", "\\e", "\\u2028", "\\x85", "\\ud800", "\\r", "\\n"])
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    quote = text.find('"', rng.randrange(len(text) + 1))
    if quote >= 0:
        if path.suffix in (".avsc", ".json"):
            escape = {
                "\\0": "\\u0000",
                "\\x01": "\\u0001",
                "\\e": "\\u001b",
                "\\x85": "\\u0085",
            }.get(escape, escape)
        changed = text[: quote + 1] + escape + text[quote + 1 :]
        path.write_text(changed, encoding="utf-8", errors="surrogateescape")


def _replace_target(specs: Path, rng: random.Random) -> Path | None:
    choices = _any_input(specs) + [specs / "registry", specs / "moosegen.yaml"]
    return _pick(rng, [p for p in choices if os.path.lexists(p)])


def folder(specs: Path, outside: Path, rng: random.Random) -> None:
    path = _replace_target(specs, rng)
    if path is not None:
        _remove(path)
        path.mkdir()
        if rng.random() < 0.5:
            (path / "v1.avsc").write_text("{}")


def fifo(specs: Path, outside: Path, rng: random.Random) -> None:
    path = _replace_target(specs, rng)
    if path is not None:
        _remove(path)
        os.mkfifo(path)


def device(specs: Path, outside: Path, rng: random.Random) -> None:
    path = _replace_target(specs, rng)
    if path is not None:
        _remove(path)
        path.symlink_to(rng.choice(["/dev/zero", "/dev/null", "/dev/urandom", "/nonexistent"]))


def symlink(specs: Path, outside: Path, rng: random.Random) -> None:
    style = rng.randrange(4)
    if style == 0:  # a schema or spec that is a link out of the project
        path = _replace_target(specs, rng)
        if path is not None:
            _remove(path)
            path.symlink_to(outside / ("registry" if path.name == "registry" else "secret.avsc"))
    elif style == 1:  # folder loops
        (specs / "loop").symlink_to(".")
        (specs / "up").symlink_to("..")
    elif style == 2:  # a link to another file inside
        path = _pick(rng, _files(specs, ".avsc", ".yaml"))
        if path is not None:
            (specs / f"link_{path.name}").symlink_to(path)
    else:  # a link inside the registry that leaves it
        target = _pick(rng, _files(specs / "registry", ".avsc", registry=True))
        if target is not None:
            _remove(target)
            target.symlink_to(outside / "secret.avsc")


def registry(specs: Path, outside: Path, rng: random.Random) -> None:
    reg = specs / "registry"
    index = reg / "index.json"
    style = rng.randrange(6)
    if style == 0 and index.is_file():
        try:
            data = json.loads(index.read_bytes())
        except (ValueError, RecursionError):
            return
        if (
            not isinstance(data, dict)
            or not data
            or not all(isinstance(v, list) and v for v in data.values())
        ):
            return
        subject = rng.choice(sorted(data))
        entry = rng.choice(data[subject])
        if not isinstance(entry, dict):  # an earlier mutation already broke it
            return
        key = rng.choice(["version", "id", "fingerprint"])
        entry[key] = rng.choice(
            [None, "x", -1, 0, 10**40, "zz" * 8, "ABCDEF0123456789", 1, True, [1]]
        )
        if rng.random() < 0.3:
            del entry[key]
        index.write_text(json.dumps(data))
    elif style == 1 and index.is_file():
        index.write_text(rng.choice(["[]", "{", '{"a": 1}', '{"../x": []}', "null", '{"a": [1]}']))
    elif style == 2:
        target = _pick(rng, _files(reg, ".avsc", registry=True))
        if target is not None:
            target.unlink()
    elif style == 3:
        odd = reg / rng.choice(["..hidden", "a b", "x" * 200, "v1.avsc", "_", "events_v9"])
        odd.mkdir(exist_ok=True)
        (odd / rng.choice(["v1.avsc", "v0.avsc", "README", "v01.avsc"])).write_text("{")
    elif style == 4:
        _remove(reg)
        reg.write_text("not a folder")
    else:
        target = _pick(rng, _files(reg, ".avsc", registry=True))
        if target is not None:
            target.write_text(rng.choice(['"int"', "{}", '{"type": "record"}', "[", "null"]))


def output(specs: Path, outside: Path, rng: random.Random) -> None:
    config = specs / "moosegen.yaml"
    value = rng.choice(
        ["../elsewhere", "/tmp/x", "a\nRUN x", "gen", "out/../..", ".", "", "gen dir", "a\\b"]
    )
    if value == "gen":
        (specs.parent / "gen").symlink_to(outside)
    if not config.is_file() or config.is_symlink():
        return  # already replaced by a FIFO, a folder or a link: leave it so
    text = config.read_text(encoding="utf-8", errors="surrogateescape")
    config.write_text(  # the bytes an earlier mutation wrote come back as they were
        text.replace("output: generated", f"output: {json.dumps(value)}"),
        encoding="utf-8",
        errors="surrogateescape",
    )


def bytes_level(specs: Path, outside: Path, rng: random.Random) -> None:
    path = _pick(rng, [p for p in _any_input(specs) if p.is_file()])
    if path is None:
        return
    lines = path.read_bytes().splitlines(keepends=True)
    if not lines:
        return
    i = rng.randrange(len(lines))
    style = rng.randrange(4)
    if style == 0:
        del lines[i]
    elif style == 1:
        lines.insert(i, lines[rng.randrange(len(lines))])
    elif style == 2:
        lines = lines[:i]
    else:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    path.write_bytes(b"".join(lines))


MUTATIONS: dict[str, Mutation] = {
    f.__name__: f
    for f in (
        hostile_name,
        valid_hostile_name,
        random_value,
        deep_yaml,
        deep_json,
        alias_bomb,
        bad_utf8,
        control_char,
        folder,
        fifo,
        device,
        symlink,
        registry,
        output,
        bytes_level,
    )
}
