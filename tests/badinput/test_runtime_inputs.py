"""Hostile graph inputs at run time: unit ids of every type and size, states that are not mappings, odd
segment values. Each one runs through a real compiled graph on every store backend: the graph completes,
every agent of the session sees one model, and the unit is either routed (its id as text) or refused with
reason ``no_unit_id`` (default model), counted and logged once without quoting the id."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing_agent.graph import RoutingNode
from routing_agent.graph.node import MAX_UNIT_ID_CHARS
from routing_agent.stores.assignments import open_store
from tests.graph.conftest import build_graph
from tests.graph.test_routing_node import make_config

DEFAULTS = {
    "classifier": "echo:default-model",
    "drafter": "echo:default-model",
    "reviewer": "echo:reviewer-default",
}
FIXED_UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")


class RaisingEq:
    """An object whose comparisons and text conversion raise (issue 15, point 10)."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no comparing me")

    def __hash__(self) -> int:
        return 1

    def __str__(self) -> str:
        raise RuntimeError("no printing me")


# label → (session_id value, the unit id it routes as, or None when refused)
UNIT_IDS: dict[str, tuple[Any, str | None]] = {
    "plain": ("s-1", "s-1"),
    "int": (42, "42"),
    "negative-int": (-7, "-7"),
    "huge-int": (10**40, str(10**40)),
    "uuid": (FIXED_UUID, str(FIXED_UUID)),
    "utf8-bytes": ("sesión".encode(), "sesión"),
    "unicode": ("ユーザー🙂", "ユーザー🙂"),
    "rtl-override": ("abc\u202edef", "abc\u202edef"),
    "zero-width": ("a\u200bb", "a\u200bb"),
    "nul-byte": ("a\x00b", "a\x00b"),
    "newlines": ("line1\nline2\r\n", "line1\nline2\r\n"),
    "braces-colons": ("{exp:other}:a:u:x", "{exp:other}:a:u:x"),
    "redis-glob": ("*?[a]", "*?[a]"),
    "sql-quote": ("'; DROP TABLE ra_assignments; --", "'; DROP TABLE ra_assignments; --"),
    "lua-ish": ("]]..redis.call('FLUSHALL')..[[", "]]..redis.call('FLUSHALL')..[["),
    "percent-format": ("%s%n{0}{unit}", "%s%n{0}{unit}"),
    "max-length": ("x" * MAX_UNIT_ID_CHARS, "x" * MAX_UNIT_ID_CHARS),
    "spaces-only": ("   ", "   "),
    "10kB": ("y" * 10_000, None),
    "1MB": ("z" * 1_000_000, None),
    "lone-surrogate": ("u\ud800", None),
    "surrogate-pair-halves": ("\udfff\ud800", None),
    "bad-utf8-bytes": (b"\xff\xfe", None),
    "float": (1.5, None),
    "nan": (float("nan"), None),
    "inf": (float("inf"), None),
    "true": (True, None),
    "false": (False, None),
    "dict": ({"id": 1}, None),
    "list": (["a"], None),
    "tuple": (("a",), None),
    "set": ({"a"}, None),
    "object": (object(), None),
    "exception": (ValueError("boom"), None),
    "int-10^5000": (10**5000, None),  # str() of it raises ValueError
    "numpy-array": (np.array([1, 2, 3]), None),  # == "" is an array, truth value ambiguous
    "raising-eq": (RaisingEq(), None),
    "empty": ("", None),
    "none": (None, None),
}

NOT_MAPPINGS: dict[str, Any] = {
    "none": None,
    "list": [("session_id", "s1")],
    "str": "session_id",
    "int": 3,
    "bytes": b"session_id=s1",
}


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return str(tmp_path / "assign.sqlite3")
    url = request.getfixturevalue("redis_url")
    prefix = request.getfixturevalue("redis_prefix")
    return f"{url}?prefix={prefix}&timeout=2"


def test_the_corpus_is_large() -> None:
    assert len(UNIT_IDS) * 3 + len(NOT_MAPPINGS) >= 100


@pytest.mark.parametrize("label", sorted(UNIT_IDS))
def test_hostile_unit_ids_route_or_are_refused_never_raise(
    label: str, store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    value, expected = UNIT_IDS[label]
    store = open_store(store_url)
    graph, node = build_graph(make_config(), store)
    with caplog.at_level(logging.WARNING, logger="routing_agent"):
        first = graph.invoke({"session_id": value, "tier": "gold", "seen": []})
        second = graph.invoke({"session_id": value, "tier": "gold", "seen": []})
    for out in (first, second):
        record = out["routing"]["exp"]
        assert record["unit_id"] == expected
        models = {s["agent"]: s["model_id"] for s in out["seen"]}
        if expected is None:  # every agent on its default model
            assert models == DEFAULTS
        else:  # every agent on the variant's model
            assert set(models.values()) == {f"echo:{record['variant']}-model"}
    if expected is None:
        assert first["routing"]["exp"]["reason"] == "no_unit_id"
        assert node.counters.reason_count("no_unit_id") == 2
        warnings = [r.getMessage() for r in caplog.records if r.name.startswith("routing_agent")]
        assert len(warnings) == 1  # logged once, however often it happens
        if isinstance(value, str) and len(value) > 100:
            assert value[:100] not in warnings[0]  # the id itself is never quoted
    else:
        r1, r2 = first["routing"]["exp"], second["routing"]["exp"]
        assert r1["variant"] in {"control", "candidate"}
        assert (r1["reason"], r2["reason"]) == ("hashed", "sticky")
        assert r2["variant"] == r1["variant"]
        assert store.get("exp", expected) == r1["variant"]
        assert not [r for r in caplog.records if r.name.startswith("routing_agent")]
    assert node.stats()["events"] == {}  # a hostile id is never mistaken for a store outage
    store.close()


@pytest.mark.parametrize("label", sorted(NOT_MAPPINGS))
def test_a_state_that_is_not_a_mapping_routes_to_the_default(
    label: str, caplog: pytest.LogCaptureFixture
) -> None:
    node = RoutingNode(make_config())
    with caplog.at_level(logging.WARNING, logger="routing_agent"):
        out = node.invoke(NOT_MAPPINGS[label])
        node.invoke(NOT_MAPPINGS[label])
    assert out["routing"]["exp"]["reason"] == "no_unit_id"
    [warning] = [r.getMessage() for r in caplog.records]
    assert "not a mapping" in warning or "has no" in warning


def test_an_object_state_is_read_by_attribute() -> None:
    class State:
        session_id = "attr-session"
        tier = "gold"

    out = RoutingNode(make_config()).invoke(State())
    assert out["routing"]["exp"]["unit_id"] == "attr-session"
    assert out["routing"]["exp"]["segments"] == {"tier": "gold"}


@pytest.mark.parametrize(
    ("tier", "expected"),
    [
        ("gold", {"tier": "gold"}),
        (3, {"tier": "3"}),
        (2.5, {"tier": "2.5"}),
        (True, {"tier": "True"}),
        (float("nan"), {}),
        ({"nested": 1}, {}),
        ("t" * 300, {}),
        ("\ud800", {}),
        (None, {}),
    ],
)
def test_segment_values_are_text_or_left_out(tier: Any, expected: dict[str, str]) -> None:
    graph, _ = build_graph(make_config(), None)
    out = graph.invoke({"session_id": "seg-session", "tier": tier, "seen": []})
    assert out["routing"]["exp"]["segments"] == expected


unit_values = st.one_of(
    st.text(max_size=40),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.binary(max_size=20),
    st.booleans(),
    st.none(),
    st.uuids(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=unit_values)
def test_any_unit_value_is_decided_the_same_way_twice(value: Any) -> None:
    node = RoutingNode(make_config())
    first = node.invoke({"session_id": value})["routing"]["exp"]
    again = node.invoke({"session_id": value, "routing": {}})["routing"]["exp"]
    assert first["reason"] in {"hashed", "no_unit_id"}
    assert again["variant"] == first["variant"]
    if first["reason"] == "hashed":
        assert isinstance(first["unit_id"], str) and again["reason"] == "sticky"


GARBAGE_ROUTING: dict[str, Any] = {
    "str": "garbage",
    "list": [1, 2],
    "record-str": {"exp": "x"},
    "record-list": {"exp": [1]},
    "record-bad-types": {"exp": {"variant": 3, "model": ["m"], "scope": "drafter", "unit_id": "s1"}},
    "raising-key": {RaisingEq(): {"variant": "candidate"}},
    "raising-value": {"exp": {"variant": RaisingEq(), "unit_id": "s1"}},
}


@pytest.mark.parametrize("label", sorted(GARBAGE_ROUTING))
def test_garbage_routing_in_the_input_is_ignored_and_decided_afresh(label: str) -> None:
    graph, _ = build_graph(make_config(), open_store("memory://"))
    out = graph.invoke({"session_id": "s-1", "seen": [], "routing": GARBAGE_ROUTING[label]})
    clean = graph.invoke({"session_id": "s-1", "seen": []})
    record = out["routing"]["exp"]
    assert record["unit_id"] == "s-1" and record["variant"] == clean["routing"]["exp"]["variant"]
    assert {s["model_id"] for s in out["seen"]} == {f"echo:{record['variant']}-model"}
