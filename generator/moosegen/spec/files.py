"""Reading one input file safely: only regular files, bounded in size, strict UTF-8.

A FIFO, a device or a folder where a file is expected is refused from `os.stat`,
before anything opens it; the open itself is non-blocking and re-checked with
`fstat`, so a file swapped for a FIFO in between cannot hang the build.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from moosegen.diagnostics import Diagnostic

MAX_FILE_BYTES = 16 * 2**20


class SourceFileError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(diagnostic.text())


def _kind(mode: int) -> str | None:
    """What the file is, when it is not a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _fail(display: str, code: str, message: str, line: int = 1, col: int = 1) -> SourceFileError:
    return SourceFileError(Diagnostic(display, line, col, "error", code, message))


def read_bytes(path: Path, display: str, *, limit: int = MAX_FILE_BYTES) -> bytes:
    """The content of a regular file of at most `limit` bytes, else a located error."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise _fail(display, "FILE_UNREADABLE", f"cannot read: {exc.strerror}") from None
    if (kind := _kind(info.st_mode)) is not None:
        raise _fail(display, "NOT_A_FILE", f"{kind}, not a file")
    if info.st_size > limit:
        raise _fail(display, "FILE_TOO_LARGE", f"{info.st_size} bytes; the limit is {limit}")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise _fail(display, "FILE_UNREADABLE", f"cannot read: {exc.strerror}") from None
    try:
        if (kind := _kind(os.fstat(fd).st_mode)) is not None:
            raise _fail(display, "NOT_A_FILE", f"{kind}, not a file")
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise _fail(display, "FILE_TOO_LARGE", f"over {limit} bytes")
    except OSError as exc:
        raise _fail(display, "FILE_UNREADABLE", f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def decode_utf8(data: bytes, display: str) -> str:
    """Strict UTF-8; the error points at the first bad byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start]
        line = good.count(b"\n") + 1
        col = len(good[good.rfind(b"\n") + 1 :].decode("utf-8")) + 1
        raise _fail(
            display,
            "ENCODING",
            f"not UTF-8: byte 0x{data[exc.start]:02x} ({exc.reason})",
            line,
            col,
        ) from None
    return text.removeprefix("\ufeff")


def read_text(path: Path, display: str) -> str:
    return decode_utf8(read_bytes(path, display), display)
