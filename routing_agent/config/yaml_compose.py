"""YAML text → node graphs through libyaml, several times faster than PyYAML's pure-Python reader.

libyaml's C scanner and parser produce the events; this loop composes them into the same node graph as
PyYAML's composer (same tags, same marks, so every value keeps its line), iteratively and with a cache of
resolved scalar tags. Anything out of the ordinary — a syntax error, an undefined or duplicate anchor,
nesting deeper than the limit — raises ``Unusual`` (or a ``yaml.YAMLError``), and the caller reads the text
again with PyYAML's own composer, which words the problem: messages never depend on whether libyaml is there.
"""

from __future__ import annotations

__all__ = ["AVAILABLE", "Unusual", "compose_with_libyaml"]

from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

_CSafeLoader: Any = getattr(yaml, "CSafeLoader", None) if getattr(yaml, "__with_libyaml__", False) else None
AVAILABLE = _CSafeLoader is not None
"""Whether PyYAML was built with libyaml."""

_SEQ = BaseResolver.DEFAULT_SEQUENCE_TAG
_MAP = BaseResolver.DEFAULT_MAPPING_TAG


class Unusual(Exception):
    """Input the fast path leaves to PyYAML's composer to refuse and word."""


def compose_with_libyaml(text: str, max_depth: int) -> list[Node]:
    """The root node of each document in ``text``; ``Unusual`` or ``yaml.YAMLError`` on anything odd."""
    if _CSafeLoader is None:
        raise Unusual("libyaml is not installed")
    parser = _CSafeLoader(text)
    try:
        get = parser.get_event
        get()  # StreamStartEvent
        documents: list[Node] = []
        tags: dict[tuple[str, Any], str] = {}
        while True:
            event = get()
            if type(event) is StreamEndEvent:
                return documents
            documents.append(_document(get, parser.resolve, tags, max_depth))
    finally:
        parser.dispose()


def _document(get: Any, resolve: Any, tags: dict[tuple[str, Any], str], max_depth: int) -> Node:
    anchors: dict[str, Node] = {}
    stack: list[list[Any]] = []  # [collection node, pending mapping key or None]
    root: Node | None = None
    while True:
        event = get()
        kind = type(event)
        if kind is MappingEndEvent or kind is SequenceEndEvent:
            stack.pop()[0].end_mark = event.end_mark
            continue
        if kind is DocumentEndEvent:
            if root is None:
                raise Unusual("an empty document")
            return root
        if len(stack) >= max_depth:  # the reference composer refuses (and locates) this node
            raise Unusual("too deep")
        node: Node
        if kind is AliasEvent:
            if event.anchor not in anchors:
                raise Unusual("an undefined alias")
            node = anchors[event.anchor]
        else:
            anchor, tag = event.anchor, event.tag
            if anchor is not None and anchor in anchors:
                raise Unusual("a duplicate anchor")
            if kind is ScalarEvent:
                if tag is None or tag == "!":
                    key = (event.value, event.implicit)
                    tag = tags.get(key)
                    if tag is None:
                        tag = tags[key] = resolve(ScalarNode, event.value, event.implicit)
                node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
            elif kind is SequenceStartEvent:
                tag = _SEQ if tag is None or tag == "!" else tag
                node = SequenceNode(tag, [], event.start_mark, None, flow_style=event.flow_style)
            elif kind is MappingStartEvent:
                tag = _MAP if tag is None or tag == "!" else tag
                node = MappingNode(tag, [], event.start_mark, None, flow_style=event.flow_style)
            else:
                raise Unusual(f"an unexpected {kind.__name__}")
            if anchor is not None:
                anchors[anchor] = node
        if stack:
            frame = stack[-1]
            parent = frame[0]
            if type(parent) is SequenceNode:
                parent.value.append(node)
            elif frame[1] is None:
                frame[1] = node
            else:
                parent.value.append((frame[1], node))
                frame[1] = None
        else:
            root = node
        if kind is SequenceStartEvent or kind is MappingStartEvent:
            stack.append([node, None])
