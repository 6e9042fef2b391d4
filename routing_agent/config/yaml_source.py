"""Safe YAML reading that remembers where every value came from.

``read_yaml(data, source)`` turns bytes into plain Python data (dicts, lists, str, int, float, bool, None)
plus a map from each data path (``("experiments", 0, "variants", 1, "weight")``) to its 1-based line.
It never constructs Python objects: only the standard scalar, mapping and sequence tags are accepted, and a
``!!python/...`` (or any other) tag is a reported problem. On top of PyYAML's safe composer it refuses what
PyYAML lets through silently or slowly:

* a key repeated in one mapping (PyYAML keeps the last one without a word);
* alias bombs ("billion laughs"): the size of the document with every alias expanded is computed on the
  node graph in linear time and refused when aliases add more than ``MAX_NODES`` values to those written
  out, before anything walks it (what is written out is bounded by ``MAX_BYTES``);
* recursive aliases, nesting deeper than ``MAX_DEPTH``, files above ``MAX_BYTES``, bytes that are not UTF-8.

Dates stay strings (pydantic parses them); mapping keys are always their text (``on:`` is the key "on").
"""

from __future__ import annotations

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_NUMBER_CHARS",
    "Document",
    "Path",
    "PathIssue",
    "read_yaml",
]

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from routing_agent.config.yaml_compose import AVAILABLE, Unusual, compose_with_libyaml
from routing_agent.config.yaml_errors import Refused, decode, describe_yaml_error

MAX_BYTES = 1_000_000
"""Largest config file read (bytes). Split bigger setups across files in a folder."""
MAX_NODES = 100_000
"""Most values aliases may add to a document (counting every alias at every place it is used)."""
MAX_DEPTH = 64
MAX_NUMBER_CHARS = 4000
"""Longest number literal read (a 5,000-digit integer cannot even be converted to text by Python)."""
"""Deepest nesting of mappings and lists (after alias expansion: twice this)."""

Path = tuple[str | int, ...]

_YAML = "tag:yaml.org,2002:"
_MERGE = _YAML + "merge"
_SCALARS = {_YAML + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_CONSTRUCT = SafeConstructor()


@dataclass(frozen=True)
class PathIssue:
    """A problem found while reading, located by data path (``None``: the whole file) and line."""

    path: Path | None
    line: int | None
    message: str
    fix: str | None = None


@dataclass
class Document:
    """One YAML document of a file: its data, where each value sits, and what was wrong with it."""

    source: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    issues: list[PathIssue] = field(default_factory=list)
    broken: set[Path] = field(default_factory=set)
    """Paths whose value was refused (bad tag, bad key): validation errors under them are noise."""

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, else of its nearest ancestor that has one."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(path[:cut])
            if line is not None:
                return line
        return None

    def is_broken(self, path: Path) -> bool:
        """Whether ``path`` is at or under a refused value."""
        broken = self.broken  # a lookup per prefix: linear however many values were refused
        return bool(broken) and any(path[:cut] in broken for cut in range(len(path) + 1))


class _DepthLimited(Composer):
    """PyYAML's composer (in Python, so node marks keep their lines) with a nesting limit, so deep input
    fails cleanly instead of recursing."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[attr-defined]
                raise Refused(
                    f"the YAML is nested more than {MAX_DEPTH} levels deep",
                    "flatten the structure; an experiments file needs about 6 levels",
                    mark.line + 1,
                )
            return Composer.compose_node(self, parent, index)
        finally:
            self._depth -= 1


class _Loader(_DepthLimited, yaml.SafeLoader):
    """PyYAML's pure-Python safe loader: without libyaml, and to word a problem the fast path met."""


def _nodes(text: str) -> list[Node]:
    """The documents' node graphs: through libyaml when installed (``yaml_compose``), else — and for any
    input the fast path finds unusual, so messages never depend on libyaml — through PyYAML's composer."""
    if AVAILABLE:
        try:
            return compose_with_libyaml(text, MAX_DEPTH)
        except (Unusual, yaml.YAMLError):
            pass
    loader = _Loader(text)
    try:
        nodes = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                nodes.append(node)
        return nodes
    finally:
        loader.dispose()


def read_yaml(
    data: bytes | str, source: str, *, max_bytes: int = MAX_BYTES
) -> tuple[list[Document], list[PathIssue]]:
    """Parse ``data`` into documents; file-wide problems (size, encoding, syntax) come back as issues."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        return [], [
            PathIssue(
                None,
                None,
                f"the file is {len(raw):,} bytes; the limit is {max_bytes:,}",
                "split the experiments across several files in one folder",
            )
        ]
    try:
        text = decode(raw)
        nodes = _nodes(text)
        documents = []
        for node in nodes:
            _check_size(node)
            doc = Document(source=source, data=None)
            doc.data = _Walker(doc).walk(node, ())
            documents.append(doc)
    except Refused as exc:
        return [], [PathIssue(None, exc.line, exc.message, exc.fix)]
    except yaml.YAMLError as exc:
        line, message, fix = describe_yaml_error(exc, text)
        return [], [PathIssue(None, line, message, fix)]
    return documents, []


def _check_size(root: Node) -> None:
    """Refuse alias bombs and recursive aliases: expanded size on the node graph, memoised (linear)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise Refused(
                "an alias refers to the mapping or list that contains it (a recursive alias)",
                "use the alias (*name) outside the anchored (&name) block",
                node.start_mark.line + 1,
            )
        if depth > 2 * MAX_DEPTH:
            raise Refused(
                f"with aliases expanded the YAML is nested more than {2 * MAX_DEPTH} levels deep",
                "write the values out instead of nesting aliases inside aliases",
                node.start_mark.line + 1,
            )
        active.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(child, depth + 1) for child in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        active.discard(key)
        sizes[key] = total
        return total

    total = size(root, 0)
    if total - len(sizes) > MAX_NODES:  # ``sizes`` holds every node written out once
        raise Refused(
            f"with aliases expanded this document has {total:,} values, {total - len(sizes):,} of them added "
            f"by aliases (limit {MAX_NODES:,}); this looks like an alias bomb",
            "remove the nested aliases (*name) or write the values out",
            root.start_mark.line + 1,
        )


class _Walker:
    """Node graph → plain data, recording lines, duplicate keys and refused tags on the document."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def walk(self, node: Node, path: Path) -> Any:
        self.doc.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != _YAML + "seq":
                return self._refuse(node, path)
            return [self.walk(child, (*path, i)) for i, child in enumerate(node.value)]
        if isinstance(node, MappingNode) and node.tag == _YAML + "map":
            return self._mapping(node, path)
        return self._refuse(node, path)

    def _scalar(self, node: ScalarNode, path: Path) -> Any:
        tag = node.tag
        if tag not in _SCALARS:
            return self._refuse(node, path)
        if tag in (_YAML + "str", _YAML + "timestamp"):
            return node.value
        if tag == _YAML + "null":
            return None
        if tag == _YAML + "bool":
            return _CONSTRUCT.construct_yaml_bool(node)
        if len(node.value) > MAX_NUMBER_CHARS:  # int("1" * 5000) raises; no config number is that long
            self.doc.issues.append(
                PathIssue(
                    path,
                    node.start_mark.line + 1,
                    f"a number written with {len(node.value):,} characters (at most {MAX_NUMBER_CHARS})",
                    "write the number plainly (a weight is a share like 0.5 or a percentage like 50)",
                )
            )
            self.doc.broken.add(path)
            return None
        if tag == _YAML + "int":
            return _CONSTRUCT.construct_yaml_int(node)
        return _CONSTRUCT.construct_yaml_float(node)

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[str, int] = {}
        merges: list[MappingNode] = []
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE:
                merges.extend(self._merge_sources(value_node, path))
                continue
            if not isinstance(key_node, ScalarNode):
                self.doc.issues.append(
                    PathIssue(
                        path, line, "a key must be plain text, not a list or mapping", "write key: value"
                    )
                )
                continue
            key = str(key_node.value)
            if key in seen:
                self.doc.issues.append(
                    PathIssue(
                        (*path, key),
                        line,
                        f"key '{key}' appears twice in this mapping ("
                        + (f"lines {seen[key]} and {line}" if seen[key] != line else f"both on line {line}")
                        + "); YAML would silently keep only the last one",
                        "delete one of the two entries",
                    )
                )
                continue
            seen[key] = line
            self.doc.lines[(*path, key)] = line
            value = self.walk(value_node, (*path, key))
            if (*path, key) not in self.doc.broken:
                result[key] = value
        for source in merges:  # `<<: *defaults`: explicit keys win, earlier merges win over later ones
            for key_node, value_node in source.value:
                key = str(key_node.value)
                if isinstance(key_node, ScalarNode) and key not in result and key not in seen:
                    self.doc.lines.setdefault((*path, key), key_node.start_mark.line + 1)
                    result[key] = self.walk(value_node, (*path, key))
        return result

    def _merge_sources(self, node: Node, path: Path) -> list[MappingNode]:
        if isinstance(node, MappingNode):
            return [node]
        if isinstance(node, SequenceNode) and all(isinstance(n, MappingNode) for n in node.value):
            return list(node.value)
        self.doc.issues.append(
            PathIssue(
                path,
                node.start_mark.line + 1,
                "a merge key '<<' must be followed by a mapping alias (*name) or a list of them",
                "write <<: *defaults where &defaults anchors a mapping",
            )
        )
        self.doc.broken.add(path)
        return []

    def _refuse(self, node: Node, path: Path) -> None:
        tag = node.tag.replace(_YAML, "!!")
        self.doc.issues.append(
            PathIssue(
                path,
                node.start_mark.line + 1,
                f"the YAML tag '{tag}' is not allowed: configs are safe-loaded and never build Python "
                "objects or custom types",
                "remove the tag and write a plain value (text, number, true/false, list or mapping)",
            )
        )
        self.doc.broken.add(path)
