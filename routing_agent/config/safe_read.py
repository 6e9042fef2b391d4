"""Reading a file a config points at (a scorer's ``schema_file``) as safely as the config itself.

``read_regular_file`` opens without blocking and refuses anything but a regular file (a FIFO, a device or a
socket would hang or stream forever) and anything above ``max_bytes``, reading at most ``max_bytes + 1``.
``load_data_file`` parses it: YAML through the hardened reader (no tags, alias bombs and depth refused),
JSON with the standard parser (JSON has no aliases) behind the same size cap.
"""

from __future__ import annotations

__all__ = ["DATA_FILE_MAX_BYTES", "load_data_file", "read_regular_file"]

import json
import os
import stat
from pathlib import Path
from typing import Any

from routing_agent.config.yaml_source import read_yaml

DATA_FILE_MAX_BYTES = 1_000_000
"""Largest referenced data file (bytes)."""


def read_regular_file(path: Path, max_bytes: int = DATA_FILE_MAX_BYTES) -> bytes:
    """The bytes of ``path``; ``ValueError`` saying why when it is not a regular file or is too large."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ValueError(f"cannot read '{path}': {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"'{path}' is not a regular file (a FIFO, device or folder is refused)")
        if info.st_size > max_bytes:
            raise ValueError(f"'{path}' is {info.st_size:,} bytes; the limit is {max_bytes:,}")
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:
            raise ValueError(f"'{path}' grew past the limit of {max_bytes:,} bytes while being read")
        return data
    finally:
        os.close(fd)


def load_data_file(path: Path, max_bytes: int = DATA_FILE_MAX_BYTES) -> Any:
    """The data in a ``.json``/``.yaml``/``.yml`` file; ``ValueError`` with the reason when it is refused."""
    raw = read_regular_file(path, max_bytes)
    if path.suffix in {".yaml", ".yml"}:
        documents, issues = read_yaml(raw, str(path), max_bytes=max_bytes)
        if issues:
            where = f" (line {issues[0].line})" if issues[0].line else ""
            raise ValueError(f"'{path}'{where}: {issues[0].message}")
        document_issues = [i for d in documents for i in d.issues]
        if document_issues:
            where = f" (line {document_issues[0].line})" if document_issues[0].line else ""
            raise ValueError(f"'{path}'{where}: {document_issues[0].message}")
        if len(documents) != 1:
            raise ValueError(f"'{path}' must hold exactly one YAML document")
        return documents[0].data
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"'{path}' is not JSON: {exc}") from exc
