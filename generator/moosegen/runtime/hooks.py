# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""Resolve user hooks given as 'package.module:function' strings, once, at start-up."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


class HookError(Exception):
    """A hook named in the spec cannot be loaded; the message says which and why."""


def resolve(spec: str, role: str) -> Callable[..., Any]:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise HookError(f"{role} hook {spec!r}: expected 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HookError(
            f"{role} hook {spec!r}: cannot import module {module_name!r} ({exc}); "
            "put the hooks' folder on PYTHONPATH or pass --hooks-path"
        ) from exc
    try:
        fn = getattr(module, attr)
    except AttributeError:
        raise HookError(
            f"{role} hook {spec!r}: module {module_name!r} has no attribute {attr!r}"
        ) from None
    if not callable(fn):
        raise HookError(f"{role} hook {spec!r}: {attr!r} is not callable")
    return fn  # type: ignore[no-any-return]
