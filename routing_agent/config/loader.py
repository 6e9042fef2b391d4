"""Experiment YAML files → one validated ``ExperimentsConfig``, or a ``ConfigError`` listing every problem.

A file holds file-level sections (``default_model``, ``agents``, ``prices``, ``telemetry``,
``simulated_profiles``) and an ``experiments:`` list; a file may also be a bare list of experiments or a
single experiment. Folders load every ``*.yaml``/``*.yml`` in name order; several files merge: sections merge
key by key (a conflicting value is an error naming both places), experiment ids must be unique across all
files, and experiments that claim the same agent for the same units must be mutually exclusive
(see ``conflicts.py``). Every problem becomes a ``ConfigIssue`` with file, line, experiment, field and fix.
"""

from __future__ import annotations

__all__ = [
    "ConfigCheck",
    "check_experiments",
    "check_experiments_string",
    "load_experiments",
    "load_experiments_from_string",
    "yaml_files",
]

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from pydantic import ValidationError

from routing_agent.config.checks import experiment_checks
from routing_agent.config.conflicts import MAX_COLLISIONS, find_collisions
from routing_agent.config.merge import Sections
from routing_agent.config.messages import explain, format_path, suggest
from routing_agent.config.references import unknown_agents
from routing_agent.config.spec import ExperimentsConfig, ExperimentSpec
from routing_agent.config.yaml_source import MAX_BYTES, Document, Path, read_yaml
from routing_agent.errors import ConfigError, ConfigIssue

SECTIONS = ("version", "default_model", "agents", "prices", "telemetry", "simulated_profiles")
_TOP_LEVEL = (*SECTIONS, "experiments")
_EXPERIMENT_KEYS = frozenset(ExperimentSpec.model_fields)


@dataclass(frozen=True)
class ConfigCheck:
    """The outcome of checking config files: the config (when valid) or every issue found."""

    config: ExperimentsConfig | None
    issues: tuple[ConfigIssue, ...]
    files: tuple[str, ...]
    places: Mapping[str, str] = field(default_factory=dict)
    """Experiment id → ``file:line`` where it is declared."""

    @property
    def ok(self) -> bool:
        """True when there is no issue."""
        return not self.issues

    def unwrap(self) -> ExperimentsConfig:
        """The config, or ``ConfigError`` with every issue."""
        if self.issues or self.config is None:
            raise ConfigError(list(self.issues) or "no config was loaded")
        return self.config


def load_experiments(*paths: str | FsPath, max_bytes: int = MAX_BYTES) -> ExperimentsConfig:
    """Load and validate experiment files and folders; raises ``ConfigError`` listing every problem."""
    return check_experiments(*paths, max_bytes=max_bytes).unwrap()


def load_experiments_from_string(text: str | bytes, source: str = "<string>") -> ExperimentsConfig:
    """Like ``load_experiments`` for YAML text; ``source`` names it in error messages."""
    return check_experiments_string(text, source).unwrap()


def check_experiments(*paths: str | FsPath, max_bytes: int = MAX_BYTES) -> ConfigCheck:
    """Validate files and folders without raising: the config or all issues (what ``validate`` prints)."""
    files, issues = yaml_files(*paths)
    builder = _Builder(issues)
    for name in files:
        try:
            data = FsPath(name).read_bytes()
        except OSError as exc:
            builder.issues.append(ConfigIssue(name, None, None, None, f"cannot read the file: {exc}", None))
            continue
        builder.add(name, data, max_bytes)
    return builder.finish(files)


def check_experiments_string(text: str | bytes, source: str = "<string>") -> ConfigCheck:
    """``check_experiments`` for YAML text."""
    builder = _Builder([])
    builder.add(source, text, MAX_BYTES)
    return builder.finish([source])


def yaml_files(*paths: str | FsPath) -> tuple[list[str], list[ConfigIssue]]:
    """Files named by ``paths`` (folders give their ``*.yaml``/``*.yml`` in name order), and path problems."""
    files: list[str] = []
    issues: list[ConfigIssue] = []
    seen: set[FsPath] = set()
    if not paths:
        issues.append(
            ConfigIssue("<none>", None, None, None, "no config file given", "pass a file or folder")
        )
    for given in paths:
        path = FsPath(given)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                issues.append(
                    ConfigIssue(str(path), None, None, None, "the folder has no *.yaml or *.yml file", None)
                )
        elif path.is_file():
            found = [path]
        else:
            issues.append(
                ConfigIssue(str(path), None, None, None, "no such file or folder", "check the path")
            )
            continue
        for item in found:
            if item.resolve() not in seen:
                seen.add(item.resolve())
                files.append(str(item))
    return files, issues


@dataclass
class _Placed:
    """A validated experiment and where it was declared."""

    spec: ExperimentSpec
    doc: Document
    base: Path

    @property
    def place(self) -> str:
        return f"{self.doc.source}:{self.doc.line_of(self.base)}"


class _Builder:
    """Accumulates documents, then cross-checks and assembles them."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        self.placed: list[_Placed] = []
        self.sections = Sections()
        self._bases: dict[int, dict[Path, str]] = {}
        self._seen: set[ConfigIssue] = set(issues)

    def add(self, source: str, data: str | bytes, max_bytes: int) -> None:
        documents, problems = read_yaml(data, source, max_bytes=max_bytes)
        for problem in problems:
            self.issues.append(ConfigIssue(source, problem.line, None, None, problem.message, problem.fix))
        for doc in documents:
            self._document(doc)

    def _document(self, doc: Document) -> None:
        data = doc.data
        entries: list[tuple[Path, Any]]
        if isinstance(data, list):
            entries = [((i,), item) for i, item in enumerate(data)]
        elif isinstance(data, dict) and "experiments" not in data and ({"id", "variants"} & data.keys()):
            entries = [((), data)]
        elif isinstance(data, dict):
            entries = self._sections(doc, data)
        else:
            if data is not None:
                self._report(doc, (), _SHAPE, "start the file with experiments: followed by a list")
            entries = []
        self._bases[id(doc)] = {base: _label(base, item) for base, item in entries}
        for problem in doc.issues:
            self._report(doc, problem.path or (), problem.message, problem.fix, problem.line)
        for base, item in entries:
            self._experiment(doc, base, item)

    def _sections(self, doc: Document, data: dict[str, Any]) -> list[tuple[Path, Any]]:
        for key, value in data.items():
            if key == "experiments" or doc.is_broken((key,)):
                continue
            if key not in SECTIONS:
                self._report(doc, (key,), f"unknown top-level key '{key}'", _top_level_fix(key))
                continue
            try:
                model = ExperimentsConfig.model_validate({key: value})
            except ValidationError as exc:
                for p in explain(exc, ExperimentsConfig, {key: value}):
                    self._report(doc, p.path, p.message, p.fix)
                continue
            for path, message, fix in self.sections.add(key, getattr(model, key), doc):
                self._report(doc, path, message, fix)
        experiments = data.get("experiments")
        if experiments is None:
            return []
        if not isinstance(experiments, list):
            fix = "write experiments: followed by '- id: ...' entries, one per experiment"
            self._report(doc, ("experiments",), "'experiments' must be a list", fix)
            return []
        return [(("experiments", i), item) for i, item in enumerate(experiments)]

    def _experiment(self, doc: Document, base: Path, item: Any) -> None:
        if not isinstance(item, dict):
            if not doc.is_broken(base):
                fix = "write each experiment as a mapping: - id: ..., variants: [...]"
                self._report(doc, base, "an experiment must be a mapping of 'key: value' lines", fix)
            return
        try:
            spec = ExperimentSpec.model_validate(item)
        except ValidationError as exc:
            for p in explain(exc, ExperimentSpec, item):
                self._report(doc, (*base, *p.path), p.message, p.fix)
            return
        self.placed.append(_Placed(spec, doc, base))

    def _report(
        self, doc: Document, path: Path, message: str, fix: str | None, line: int | None = None
    ) -> None:
        if line is None and doc.is_broken(path):
            return  # already reported as a refused value; validation noise below it says nothing new
        experiment, rel = None, path
        bases = self._bases.get(id(doc), {})
        for cut in range(len(path) + 1):  # the shortest base first, as entries never nest
            label = bases.get(path[:cut])
            if label is not None:
                experiment, rel = label, path[cut:]
                break
        line = line if line is not None else doc.line_of(path)
        issue = ConfigIssue(doc.source, line, experiment, format_path(rel) or None, message, fix)
        if issue not in self._seen:  # a set: a config with 20,000 problems is checked in linear time
            self._seen.add(issue)
            self.issues.append(issue)

    def finish(self, files: list[str]) -> ConfigCheck:
        unique = self._unique()
        checks = experiment_checks()  # registered by other packages (scorer options: routing_agent.scoring)
        for placed in unique:
            for loc, message, fix in unknown_agents(placed.spec, self.sections.agents()):
                self._report(placed.doc, (*placed.base, *loc), message, fix)
            for check in checks:
                for loc, message, maybe_fix in check(placed.spec, placed.doc.source):
                    self._report(placed.doc, (*placed.base, *loc), message, maybe_fix)
        places = {p.spec.id: p.place for p in unique}
        by_id = {p.spec.id: p for p in unique}
        collisions = find_collisions([p.spec for p in unique], limit=MAX_COLLISIONS + 1)
        for collision in collisions[:MAX_COLLISIONS]:
            second = by_id[collision.second]
            path = (*second.base, collision.field)
            self._report(second.doc, path, collision.message(places), collision.fix)
        if len(collisions) > MAX_COLLISIONS:
            last = by_id[collisions[-1].second]
            self._report(
                last.doc,
                (*last.base, "namespace"),
                f"more than {MAX_COLLISIONS} pairs of experiments collide; only the first are listed",
                "fix those, then validate again",
            )
        order = {name: i for i, name in enumerate(files)}
        issues = sorted(self.issues, key=lambda i: (order.get(i.file, -1), i.line or 0))
        if issues:
            return ConfigCheck(None, tuple(issues), tuple(files), places)
        config = ExperimentsConfig(
            **self.sections.merged(), experiments=tuple(p.spec for p in unique), sources=tuple(files)
        )
        return ConfigCheck(config, (), tuple(files), places)

    def _unique(self) -> list[_Placed]:
        first: dict[str, _Placed] = {}
        for placed in self.placed:
            other = first.setdefault(placed.spec.id, placed)
            if other is not placed:
                self._report(
                    placed.doc,
                    (*placed.base, "id"),
                    f"experiment id '{placed.spec.id}' is already used at {other.place}",
                    "give each experiment its own id (the id seeds the hash, so it must be unique)",
                )
        return list(first.values())


_SHAPE = "the file must be a mapping with an 'experiments:' list (or a list of experiments)"


def _label(base: Path, item: Any) -> str:
    if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"].strip():
        label = str(item["id"]).strip()
        return label if len(label) <= 80 else label[:77] + "..."
    return format_path(("experiments", base[-1])) if base else "experiment"


def _top_level_fix(key: str) -> str:
    if key in _EXPERIMENT_KEYS:
        return f"'{key}' belongs to an experiment: put it inside an entry of the experiments: list"
    close = suggest(key, list(_TOP_LEVEL))
    known = ", ".join(_TOP_LEVEL)
    return f"did you mean '{close}'? Known keys: {known}" if close else f"remove it; known keys: {known}"
