"""Find every diagnostic code the generator's source can emit, by reading it with `ast`.

A code is a string constant in a *code position*: the `code` argument of any
function or dataclass of the package that has a parameter or field named `code`
(`Diagnostic`, `SourceMap.diag`, `Finding`, the targets' reporters, ...), by
position or keyword. A local variable in that position is followed to the
constants assigned to it in the same function (`code = "A" if ... else "B"`).
Codes built at run time (f-strings, like the JSON Schema bound codes) are not
seen here: the compat engines' own code tables and the drift report list them.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

CODE_RE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")


@dataclass(frozen=True, order=True)
class Emitted:
    code: str
    path: str  # relative to the scanned root's parent, e.g. "moosegen/spec/load.py"
    line: int

    def where(self) -> str:
        return f"{self.path}:{self.line}"


SEVERITIES = ("error", "warning")


def _code_index(args: ast.arguments, method: bool) -> int | None | bool:
    """Where `code` is among the parameters: an index, None (keyword only), False (absent)."""
    params = [a.arg for a in (*args.posonlyargs, *args.args)]
    if method and params[:1] in (["self"], ["cls"]):
        params = params[1:]
    if "code" in params:
        return params.index("code")
    return None if "code" in [a.arg for a in args.kwonlyargs] else False


def _code_positions(trees: list[ast.Module]) -> dict[str, set[int | None]]:
    """Callable name → the positional index of its `code` argument (None: keyword only)."""
    found: dict[str, set[int | None]] = {}

    def add(name: str, index: int | None | bool) -> None:
        if index is not False:
            found.setdefault(name, set()).add(None if index is None else int(index))

    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                add(node.name, _code_index(node.args, method=True))
            elif isinstance(node, ast.ClassDef):
                fields = [
                    s
                    for s in node.body
                    if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
                ]
                names = [f.target.id for f in fields if isinstance(f.target, ast.Name)]
                if "code" in names:
                    add(node.name, names.index("code"))
                for init in node.body:  # a class called with its __init__'s arguments
                    if isinstance(init, ast.FunctionDef) and init.name == "__init__":
                        add(node.name, _code_index(init.args, method=True))
                for f in fields:
                    if isinstance(f.value, ast.Lambda) and isinstance(f.target, ast.Name):
                        add(f.target.id, _code_index(f.value.args, method=False))
    return found


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _constants(expr: ast.expr) -> list[ast.Constant]:
    """Code-like string constants in `expr`, leaving out pieces of f-strings."""
    pieces = {id(n) for j in ast.walk(expr) if isinstance(j, ast.JoinedStr) for n in ast.walk(j)}
    return [
        n
        for n in ast.walk(expr)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and CODE_RE.fullmatch(n.value)
        and id(n) not in pieces
    ]


def _assigned(function: ast.AST, name: str) -> list[ast.expr]:
    return [
        n.value
        for n in ast.walk(function)
        if isinstance(n, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)
    ]


def _module_tables(tree: ast.Module) -> dict[str, ast.expr]:
    return {
        t.id: n.value
        for n in tree.body
        if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value is not None
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
        if isinstance(t, ast.Name)
    }


def _code_args(call: ast.Call, indexes: set[int | None]) -> list[ast.expr]:
    args: list[ast.expr] = [k.value for k in call.keywords if k.arg == "code"]
    starred = any(isinstance(a, ast.Starred) for a in call.args)
    for i, arg in enumerate(call.args):
        after_severity = (
            i > 0
            and isinstance(call.args[i - 1], ast.Constant)
            and call.args[i - 1].value in SEVERITIES  # type: ignore[attr-defined]
        )
        if (after_severity if starred else i in indexes) and not isinstance(arg, ast.Starred):
            args.append(arg)
    return args


def emitted_codes(package: Path) -> list[Emitted]:
    """Every code constant in a code position under `package` (a folder of .py files)."""
    files = sorted(package.rglob("*.py"))
    trees = [ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in files]
    positions = _code_positions(trees)
    out: set[Emitted] = set()
    for path, tree in zip(files, trees, strict=True):
        rel = path.relative_to(package.parent).as_posix()
        tables = _module_tables(tree)
        functions = [
            n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        ]
        for function in functions:
            for call in ast.walk(function):
                if not isinstance(call, ast.Call):
                    continue
                # Any `code=` keyword counts (`finding.with_(code=...)`), else the callee's.
                for arg in _code_args(call, positions.get(_callee(call) or "", set())):
                    exprs = _assigned(function, arg.id) if isinstance(arg, ast.Name) else [arg]
                    used = [
                        tables[n.id]
                        for e in exprs
                        for n in ast.walk(e)
                        if isinstance(n, ast.Name) and n.id in tables
                    ]
                    for expr in (*exprs, *used):
                        out.update(Emitted(c.value, rel, c.lineno) for c in _constants(expr))
    return sorted(out)
