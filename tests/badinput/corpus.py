"""A corpus of malformed and hostile experiment configs: hand-written cases and seeded mutations of a valid
one.

``HAND_WRITTEN`` maps a case name to YAML bytes; ``mutations(n)`` yields ``n`` deterministic (name, YAML)
cases, each replacing one value of ``tests.config.support.VALID`` with a hostile one. Each case must give
``routing-agent validate`` a clean exit (0 valid, 1 invalid, every problem located) and never a traceback.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

import yaml

from tests.config.support import VALID

HEAD = "experiments:\n  - id: exp-a\n"
TWO = (
    "    variants:\n"
    "      - {name: control, model: 'simulated:strong-expensive', control: true}\n"
    "      - {name: candidate, model: 'simulated:fast-cheap'}\n"
)
OK = HEAD + TWO


def _exp(body: str) -> str:
    return HEAD + body


def _bomb(levels: int, width: int) -> str:
    lines = ["a0: &a0 [x]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * width)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + f"\nexperiments: *a{levels - 1}\n"


HAND_WRITTEN: dict[str, str | bytes] = {
    # shapes
    "empty-file": "",
    "only-comments": "# nothing here\n# at all\n",
    "null-document": "null\n",
    "scalar-document": "42\n",
    "string-document": "just some text\n",
    "list-of-scalars": "- 1\n- two\n- 3.0\n",
    "experiments-scalar": "experiments: 5\n",
    "experiments-mapping": "experiments: {id: x}\n",
    "experiments-null": "experiments:\n",
    "experiment-is-string": "experiments:\n  - exp-a\n",
    "experiment-is-list": "experiments:\n  - [id, exp-a]\n",
    "experiment-empty-mapping": "experiments:\n  - {}\n",
    "three-documents": OK + "---\n" + OK + "---\n- 1\n",
    "document-end-marker-only": "...\n",
    "tabs-indentation": "experiments:\n\t- id: exp-a\n",
    "unclosed-flow": "experiments: [ {id: a, variants: [\n",
    "unclosed-quote": "experiments:\n  - id: 'exp-a\n",
    "bad-indentation": "experiments:\n  - id: exp-a\n     variants: []\n",
    # encodings and bytes
    "utf8-bom": "\ufeff" + OK,
    "utf16": OK.encode("utf-16"),
    "latin1-bytes": HEAD.encode() + b"    description: caf\xe9\n" + TWO.encode(),
    "nul-byte": OK + "\x00\n",
    "control-char": _exp('    description: "bell \\a here"\n' + TWO),
    "raw-escape-char": _exp("    description: red\x1b[31m\n" + TWO),
    "binary-garbage": bytes(range(256)),
    "huge-line": _exp("    description: " + "d" * 200_000 + "\n" + TWO),
    "over-size-limit": "# " + "x" * 1_100_000 + "\n" + OK,
    # YAML features and attacks
    "python-object-apply": "experiments: !!python/object/apply:os.system ['echo pwned']\n",
    "python-name": "experiments:\n  - id: !!python/name:os.system\n",
    "python-module": "x: !!python/module:os\n" + OK,
    "python-tuple": _exp("    variants: !!python/tuple [1, 2]\n"),
    "custom-tag": _exp("    description: !vault secret\n" + TWO),
    "binary-tag": _exp("    description: !!binary aGVsbG8=\n" + TWO),
    "set-tag": _exp("    scope: !!set {a, b}\n" + TWO),
    "omap-tag": _exp("    scope: !!omap [a: 1]\n" + TWO),
    "billion-laughs": _bomb(9, 9),
    "wide-alias-bomb": _bomb(3, 400),
    "recursive-alias": "a: &a [*a]\nexperiments: *a\n",
    "alias-to-experiment-list": "base: &b\n" + TWO.replace("    variants", "  variants") + OK,
    "merge-key-of-scalar": _exp("    <<: 5\n" + TWO),
    "merge-key-bomb": "x: &x {a: 1}\n" + _exp("    <<: [*x, *x, *x, *x]\n" + TWO),
    "duplicate-top-key": OK + "experiments: []\n",
    "duplicate-experiment-key": _exp("    unit: session\n    unit: user\n" + TWO),
    "duplicate-variant-key": _exp(
        "    variants:\n      - {name: control, name: x, model: 'simulated:a', control: true}\n"
        "      - {name: candidate, model: 'simulated:b'}\n"
    ),
    "deep-nesting": "experiments: " + "[" * 200 + "]" * 200 + "\n",
    "deep-block-nesting": "experiments:\n" + "".join("  " * i + "- \n" for i in range(1, 120)),
    "complex-key": "? [a, b]\n: 1\n" + OK,
    "null-key": "~: 1\n" + OK,
    "int-key": "1: x\n" + OK,
    "bool-keys": "yes: 1\nno: 2\non: 3\n" + OK,
    # values
    "id-10kB": "experiments:\n  - id: " + "i" * 10_000 + "\n" + TWO,
    "id-unicode": "experiments:\n  - id: ünïcødé-🙂\n" + TWO,
    "id-rtl-override": 'experiments:\n  - id: "abc\\u202edef"\n' + TWO,
    "id-with-braces": "experiments:\n  - id: '{exp:x}'\n" + TWO,
    "id-path-traversal": "experiments:\n  - id: ../../etc/passwd\n" + TWO,
    "id-integer": "experiments:\n  - id: 123\n" + TWO,
    "id-null": "experiments:\n  - id:\n" + TWO,
    "id-list": "experiments:\n  - id: [a, b]\n" + TWO,
    "rich-markup-id": "experiments:\n  - id: '[bold red]boom[/]'\n" + TWO,
    "weights-negative": _exp(
        "    variants:\n      - {name: control, model: 'simulated:a', control: true, weight: -50}\n"
        "      - {name: candidate, model: 'simulated:b', weight: 150}\n"
    ),
    "weights-nan": _exp(
        "    variants:\n      - {name: control, model: 'simulated:a', control: true, weight: .nan}\n"
        "      - {name: candidate, model: 'simulated:b', weight: .nan}\n"
    ),
    "weights-inf": _exp(
        "    variants:\n      - {name: control, model: 'simulated:a', control: true, weight: .inf}\n"
        "      - {name: candidate, model: 'simulated:b', weight: 1}\n"
    ),
    "weights-huge-int": _exp(
        "    variants:\n      - {name: control, model: 'simulated:a', control: true, weight: "
        + "9" * 400
        + "}\n"
        "      - {name: candidate, model: 'simulated:b', weight: 1}\n"
    ),
    "weights-huge-float": _exp(
        "    variants:\n      - {name: control, model: 'simulated:a', control: true, weight: 1e308}\n"
        "      - {name: candidate, model: 'simulated:b', weight: 1e308}\n"
    ),
    "weights-tiny": _exp(
        "    variants:\n      - {name: control, model: 'simulated:a', control: true, weight: 1e-320}\n"
        "      - {name: candidate, model: 'simulated:b', weight: 1}\n"
    ),
    "weights-strings": _exp(
        "    variants:\n      - {name: control, model: 'simulated:a', control: true, weight: half}\n"
        "      - {name: candidate, model: 'simulated:b', weight: half}\n"
    ),
    "weights-all-zero": _exp(
        "    variants:\n      - {name: control, model: 'simulated:a', control: true, weight: 0}\n"
        "      - {name: candidate, model: 'simulated:b', weight: 0}\n"
    ),
    "missing-control": _exp(
        "    variants:\n      - {name: a, model: 'simulated:a'}\n      - {name: b, model: 'simulated:b'}\n"
    ),
    "two-controls": _exp(
        "    variants:\n      - {name: a, model: 'simulated:a', control: true}\n"
        "      - {name: b, model: 'simulated:b', control: true}\n"
    ),
    "control-is-string": _exp(
        "    variants:\n      - {name: a, model: 'simulated:a', control: 'yes please'}\n"
        "      - {name: b, model: 'simulated:b'}\n"
    ),
    "one-variant": _exp("    variants:\n      - {name: control, model: 'simulated:a', control: true}\n"),
    "thousand-variants": _exp(
        "    variants:\n      - {name: control, model: 'simulated:a', control: true}\n"
        + "".join(f"      - {{name: v{i}, model: 'simulated:b'}}\n" for i in range(1000))
    ),
    "duplicate-variant-names": _exp(
        "    variants:\n      - {name: control, model: 'simulated:a', control: true}\n"
        "      - {name: control, model: 'simulated:b'}\n"
    ),
    "model-without-provider": _exp(
        "    variants:\n      - {name: control, model: gpt-5, control: true}\n      - {name: b, model: ''}\n"
    ),
    "model-with-spaces": _exp(
        "    variants:\n      - {name: control, model: 'openai: gpt 5', control: true}\n"
        "      - {name: b, model: 'simulated:b'}\n"
    ),
    "model-10kB": _exp(
        "    variants:\n      - {name: control, model: 'simulated:" + "m" * 10_000 + "', control: true}\n"
        "      - {name: b, model: 'simulated:b'}\n"
    ),
    "coverage-over-one": OK + "    coverage: 1.5\n",
    "coverage-negative": OK + "    coverage: -0.1\n",
    "coverage-nan": OK + "    coverage: .nan\n",
    "namespace-inverted": OK + "    namespace: {name: ns, range: [0.9, 0.1]}\n",
    "namespace-three-numbers": OK + "    namespace: {name: ns, range: [0, 0.5, 1]}\n",
    "namespace-strings": OK + "    namespace: {name: ns, range: [a, b]}\n",
    "start-after-end": OK + "    start: 2026-06-01\n    end: 2026-05-01\n",
    "date-impossible": OK + "    start: 2026-13-45\n",
    "date-year-zero": OK + "    start: 0000-01-01\n",
    "date-far-future": OK + "    end: 9999-12-31T23:59:59Z\n",
    "date-integer": OK + "    start: 1700000000\n",
    "status-unknown": OK + "    status: exploded\n",
    "unit-unknown": OK + "    unit: galaxy\n",
    "unit-key-empty": OK + "    unit_key: ''\n",
    "unit-key-huge": OK + "    unit_key: " + "k" * 500 + "\n",
    "scope-string": OK + "    scope: drafter\n",
    "scope-duplicates": OK + "    scope: [a, a]\n",
    "scope-spaces": OK + "    scope: ['my agent']\n",
    "salt-empty": OK + "    salt: ''\n",
    "ttl-zero": OK + "    sticky_ttl_days: 0\n",
    "ttl-inf": OK + "    sticky_ttl_days: .inf\n",
    "review-unknown": OK + "    review: sometimes\n",
    "unknown-field": OK + "    variantz: []\n",
    "unknown-top-level": "experimentz: []\n",
    "version-two": "version: 2\n" + OK,
    "price-negative": OK + "    prices:\n      'simulated:a': {input: -1, output: 1}\n",
    "price-string": OK + "    prices:\n      'simulated:a': {input: free, output: 1}\n",
    "primary-metric-string": OK + "    primary_metric: resolved\n",
    "primary-metric-mde-negative": OK + "    primary_metric: {name: resolved, kind: binary, mde: -1}\n",
    "guardrail-empty": OK + "    guardrails: [{}]\n",
    "guardrail-nan-bound": OK + "    guardrails: [{metric: latency_s, max_ratio_to_control: .nan}]\n",
    "scorer-unknown-type": OK + "    scorers: [{name: s, type: telepathy}]\n",
    "scorer-options-not-mapping": OK + "    scorers: [{name: s, type: exact, options: [1, 2]}]\n",
    "params-not-mapping": _exp(
        "    variants:\n      - {name: control, model: 'simulated:a', control: true, params: [1]}\n"
        "      - {name: b, model: 'simulated:b'}\n"
    ),
    "agents-list": "agents: [a, b]\n" + OK,
    "default-model-string": "default_model: simulated:a\n" + OK,
    "telemetry-capture-string": "telemetry: {capture_content: maybe}\n" + OK,
    "simulated-profile-garbage": "simulated_profiles: {p: {extends: nothing, quality: 7}}\n" + OK,
    "duplicate-experiment-ids": OK + "  - id: exp-a\n" + TWO,
    "template-injection": _exp("    description: '{{ 7*7 }} ${HOME} %s %n {0.__class__}'\n" + TWO),
}


HOSTILE_VALUES: list[Any] = [
    None, True, False, 0, -1, 10**30, -(10**30), 1e308, -1e308, float("inf"), float("-inf"), float("nan"),
    1e-320,
    "", " ", "x" * 10_000, "🙂" * 50, "\u202eevil", "a\x00b", "\x1b[31mred", "[bold]markup[/bold]", "../../x",
    "${HOME}", "{{7*7}}", "%s%n", "2026-13-45", "!!python/object:os.system", "yes", "null", "~",
    [], {}, [[[]]], {"a": {"b": 1}}, [None], ["a", 1, None], {"": ""},
]  # fmt: skip

PATHS: list[tuple[str | int, ...]] = [
    ("experiments", 0, "id"), ("experiments", 0, "description"), ("experiments", 0, "unit"),
    ("experiments", 0, "scope"), ("experiments", 0, "variants"), ("experiments", 0, "variants", 0),
    ("experiments", 0, "variants", 0, "name"), ("experiments", 0, "variants", 0, "model"),
    ("experiments", 0, "variants", 0, "weight"), ("experiments", 0, "variants", 1, "weight"),
    ("experiments", 0, "variants", 0, "control"), ("experiments", 0, "variants", 1, "params"),
    ("experiments", 0, "primary_metric"), ("experiments", 0, "primary_metric", "mde"),
    ("experiments", 0, "primary_metric", "kind"), ("experiments", 0, "guardrails"),
    ("experiments", 0, "guardrails", 0, "max_ratio_to_control"), ("experiments", 0, "scorers", 0, "options"),
    ("experiments", 0, "prices"), ("experiments", 0, "review"), ("agents",), ("agents", "classifier"),
    ("experiments", 0, "coverage"), ("experiments", 0, "start"), ("experiments", 0, "namespace"),
    ("experiments", 0, "sticky_ttl_days"), ("experiments", 0, "salt"), ("experiments", 0, "unit_key"),
    ("experiments",), ("experiments", 0), ("telemetry",), ("default_model",), ("version",),
]  # fmt: skip


def _set(data: Any, path: tuple[str | int, ...], value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def mutations(n: int, seed: int = 9) -> Iterator[tuple[str, str]]:
    """``n`` seeded cases: one hostile value at one path of the valid config, dumped as YAML."""
    rng = random.Random(seed)
    base = yaml.safe_load(VALID)
    for i in range(n):
        path = rng.choice(PATHS)
        value = rng.choice(HOSTILE_VALUES)
        data = copy.deepcopy(base)
        _set(data, path, copy.deepcopy(value))
        label = ".".join(str(p) for p in path)
        yield f"mut{i:03d}-{label}-{type(value).__name__}", yaml.safe_dump(data, allow_unicode=True)
