"""A request's header block, read as ``http.server`` reads it but without the e-mail parser behind it.

``http.server`` hands the header lines to ``email.parser`` (``http.client.parse_headers``), which built a
whole ``Message`` per request: a sixth of the stack's CPU per API call. This reads the same lines with the
same limits (a line over 65,536 bytes, more than 100 lines: 431) and gives the same values: names as sent,
case-insensitive look-up of the first occurrence, a value's leading blanks and its line end stripped, folded
continuation lines kept in it; the block ends at the blank line, or early at a line that is no header (as
the e-mail parser ends the headers there too).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

MAX_LINE = 65536  # http.client._MAXLINE
MAX_HEADERS = 100  # http.client._MAXHEADERS
_HEADER_START = re.compile(r"[\041-\071\073-\176]*:")  # the e-mail parser's headerRE, less continuations


class HeaderBlockTooLarge(Exception):
    """A line or the count is over the limits (``http.server`` answers 431)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class RequestHeaders:
    """The parsed block: what ``email.message.Message`` offered ``http.server`` and the stack uses."""

    __slots__ = ("_first", "_items")

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items
        first: dict[str, str] = {}
        for name, value in items:
            first.setdefault(name.lower(), value)
        self._first = first

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._first.get(name.lower(), default)

    def __getitem__(self, name: str) -> str | None:  # a Message answers None for a missing header
        return self._first.get(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def keys(self) -> list[str]:
        return [name for name, _ in self._items]

    def values(self) -> list[str]:
        return [value for _, value in self._items]

    def get_all(self, name: str, failobj: list[str] | None = None) -> list[str] | None:
        wanted = name.lower()
        found = [value for key, value in self._items if key.lower() == wanted]
        return found or failobj


def read_headers(rfile: BinaryIO) -> RequestHeaders:
    """Read up to and including the blank line ending the header block."""
    lines: list[bytes] = []
    while True:
        line = rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise HeaderBlockTooLarge("Line too long", "got more than 65536 bytes when reading header line")
        lines.append(line)
        if len(lines) > MAX_HEADERS:
            raise HeaderBlockTooLarge("Too many headers", f"got more than {MAX_HEADERS} headers")
        if line in (b"\r\n", b"\n", b""):
            break
    return parse_header_lines([line.decode("iso-8859-1") for line in lines])


def parse_header_lines(lines: list[str]) -> RequestHeaders:
    items: list[tuple[str, str]] = []
    if not any(line[:1] in (" ", "\t") or line.startswith("From ") for line in lines):  # no folding: the usual
        for line in lines:
            if not _HEADER_START.match(line):
                break
            name, _, value = line.partition(":")
            if name:
                items.append((name, value.lstrip(" \t").rstrip("\r\n")))
        return RequestHeaders(items)
    name, parts = "", []  # the header being read, and its lines (first, then continuations)
    for line in lines:
        if line[:1] in (" ", "\t"):
            if name:
                parts.append(line)
            continue  # a continuation before any header: dropped, as the e-mail parser does
        if name:
            items.append((name, _value(parts)))
            name, parts = "", []
        if line.startswith("From "):  # a mailbox envelope line, to the e-mail parser: never a header
            continue
        if not _HEADER_START.match(line):
            break  # the blank line, or a line that is no header: the block ends here
        colon = line.index(":")
        if colon == 0:
            continue  # no name: dropped
        name, parts = line[:colon], [line[colon + 1:]]
    if name:
        items.append((name, _value(parts)))
    return RequestHeaders(items)


def _value(parts: list[str]) -> str:
    return (parts[0].lstrip(" \t") + "".join(parts[1:])).rstrip("\r\n")
