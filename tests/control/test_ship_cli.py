"""``routing-agent ship --segment``: a segment-level ship from the CLI, followed by a routing node."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from routing_agent.assignment.types import Reason
from routing_agent.cli import app
from routing_agent.config import load_experiments
from routing_agent.graph import RoutingNode
from routing_agent.stores.assignments.redis import RedisStore

YAML = """
version: 1
experiments:
  - id: support-haiku
    variants:
      - {name: sonnet, model: "simulated:strong", control: true}
      - {name: haiku, model: "simulated:cheap"}
    segments: [category]
"""


def test_ship_to_a_segment_from_the_cli(tmp_path: Path, redis_url: str, redis_prefix: str) -> None:
    config = tmp_path / "exp.yaml"
    config.write_text(YAML)
    url = f"{redis_url}?prefix={redis_prefix}"
    args = ["ship", "--store", url, "-c", str(config), "-e", "support-haiku", "--variant", "haiku",
            "--segment", "category=easy,billing", "--reason", "cheaper", "--actor", "dana"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "category=easy|billing" in result.stdout and "shipped" in result.stdout

    store = RedisStore.from_url(redis_url, prefix=redis_prefix, timeout_s=2.0)
    node = RoutingNode(load_experiments(config), store=store, state_refresh_s=0.0)
    for category, variant in (("easy", "haiku"), ("billing", "haiku"), ("complex", "sonnet")):
        state = {"session_id": f"s-{category}", "category": category}
        record = node.invoke(state)["routing"]["support-haiku"]
        assert (record["variant"], record["reason"]) == (variant, Reason.SHIPPED.value)
    (entry,) = store.history("support-haiku")
    assert entry.actor == "dana" and entry.evidence["ship_segment"] == {"category": ["easy", "billing"]}

    bad = CliRunner().invoke(app, [*args[:-4], "--segment", "category", "--reason", "x"])
    assert bad.exit_code != 0
    node.close()
