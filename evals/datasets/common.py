"""Helpers shared by the dataset generators: JSONL writing, ``--check`` mode, seeded noise."""

from __future__ import annotations

__all__ = ["dump_jsonl", "main_for", "typos"]

import argparse
import json
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def dump_jsonl(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as JSON Lines (sorted keys, so the output is byte-for-byte reproducible)."""
    return "".join(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n" for row in rows)


def typos(text: str, rng: random.Random, rate: float) -> str:
    """Swap adjacent letters inside words with probability ``rate`` per word (keeps ids and amounts)."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 3 and word.isalpha() and rng.random() < rate:
            k = rng.randrange(len(word) - 1)
            words[i] = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    return " ".join(words)


def main_for(build: Callable[[], dict[Path, list[dict[str, Any]]]]) -> None:
    """Command line of a generator: write its files, or ``--check`` that the committed ones match."""
    parser = argparse.ArgumentParser(description=(build.__module__ or "").rsplit(".", 1)[-1])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed file differs")
    args = parser.parse_args()
    stale = []
    for path, rows in build().items():
        text = dump_jsonl(rows)
        if args.check:
            if not path.exists() or path.read_text("utf-8") != text:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        print(f"wrote {len(rows)} rows to {path}")
    if stale:
        print("out of date (re-run the generator): " + ", ".join(str(p) for p in stale))
        sys.exit(1)
