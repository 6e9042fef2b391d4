"""Turning what goes wrong while reading YAML bytes into a line, a plain message and a fix."""

from __future__ import annotations

__all__ = ["Refused", "decode", "describe_yaml_error"]

import yaml

_BOM_UTF8 = b"\xef\xbb\xbf"
_OTHER_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}

# (part of PyYAML's problem text, plain message, fix)
_KNOWN: tuple[tuple[str, str, str], ...] = (
    (
        "found character '\\t' that cannot start any token",
        "a tab character is used for indentation; YAML allows only spaces",
        "replace the tabs with spaces (2 per level is usual)",
    ),
    (
        "mapping values are not allowed here",
        "a 'key: value' appears where it cannot: the indentation is off or a value contains ': '",
        "line the key up with its siblings, or put the value in quotes",
    ),
    (
        "could not find expected ':'",
        "a key is missing its ':' or a quote is not closed",
        "write key: value (a space after the colon) and close every quote",
    ),
    (
        "expected <block end>",
        "the indentation does not line up with the lines above",
        "indent this line like its sibling keys",
    ),
    (
        "did not find expected key",
        "the indentation does not line up with the keys above",
        "indent this line like its sibling keys",
    ),
    (
        "did not find expected '-' indicator",
        "a list item does not line up with the items above",
        "start each list item with '- ' at the same indentation",
    ),
    ("found undefined alias", "an alias (*name) is used before any anchor (&name) defines it", ""),
    ("found duplicate anchor", "the same anchor (&name) is defined twice", "give each anchor its own name"),
    (
        "found unexpected end of stream",
        "the file ends inside an unclosed quote or bracket",
        "close the quote or bracket that opens near this line",
    ),
)


class Refused(Exception):
    """Input the reader will not process (size, encoding, alias bomb, nesting)."""

    def __init__(self, message: str, fix: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.line = line


def decode(raw: bytes) -> str:
    """UTF-8 bytes → text (a leading BOM is allowed); otherwise ``Refused`` with the bad byte's line."""
    if raw.startswith(_BOM_UTF8):
        raw = raw[len(_BOM_UTF8) :]
    for bom, name in _OTHER_BOMS.items():
        if raw.startswith(bom):
            raise Refused(f"the file is {name} encoded, not UTF-8", "save the file as UTF-8", 1)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise Refused(
            f"byte 0x{raw[exc.start]:02x} at line {line}, column {column} is not valid UTF-8",
            "save the file as UTF-8 (most editors offer 'Save with encoding: UTF-8')",
            line,
        ) from None


def describe_yaml_error(exc: yaml.YAMLError, text: str) -> tuple[int | None, str, str]:
    """PyYAML's error → (line, what is wrong, how to fix it)."""
    if isinstance(exc, yaml.reader.ReaderError):
        where = text[: exc.position].count("\n") + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        return (
            where,
            f"the character U+{ord(char):04X} is not allowed in YAML",
            "remove it (control characters other than tab and newline are not allowed)",
        )
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        if "end of stream" in (exc.problem or "") and exc.context_mark is not None:
            mark = exc.context_mark  # where the unclosed quote or bracket opened, not the end of the file
        line = mark.line + 1 if mark is not None else None
        problem = (exc.problem or "").strip()
        for needle, message, fix in _KNOWN:
            if needle in problem:
                anchor = problem.rsplit(" ", 1)[-1].strip("'\"")
                return line, message, fix or f"define the anchor with &{anchor} before using *{anchor}"
        context = f" ({exc.context.strip()})" if exc.context else ""
        return (
            line,
            f"YAML syntax error: {problem}{context}",
            "check the indentation, the quotes and the ':' after each key on this line and the one above",
        )
    return None, f"the YAML could not be read: {exc}", "check that the file is valid YAML"
