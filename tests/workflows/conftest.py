"""Helpers for the workflow tests: single-model configs, a call recorder, running a dataset."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler

from routing_agent.config.spec import AgentModelSpec, ExperimentsConfig, ExperimentSpec, VariantSpec
from routing_agent.graph import metadata as meta
from routing_agent.workflows.base import WorkflowSpec
from tests.support.time_scale import instant_models


@pytest.fixture(autouse=True)
def _no_sleeping() -> Iterator[None]:
    with instant_models():
        yield


def single_model_config(
    model: str, unit_key: str, *, scope: Sequence[str] = (), default: str | None = None
) -> ExperimentsConfig:
    """Every agent in ``scope`` (all when empty) on ``model``; the others on ``default`` (or ``model``)."""
    return ExperimentsConfig(
        default_model=AgentModelSpec(model=default or model),
        experiments=(
            ExperimentSpec(
                id="only",
                unit_key=unit_key,
                scope=tuple(scope),
                variants=(
                    VariantSpec(name="arm", model=model, weight=1.0, control=True),
                    VariantSpec(name="unused", model=model, weight=0.0),
                ),
            ),
        ),
    )


class CallRecorder(BaseCallbackHandler):
    """Records (agent, experiment, variant, model id, reported model name) for every chat-model call."""

    def __init__(self) -> None:
        self.starts: dict[UUID, dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        md = metadata or {}
        self.starts[run_id] = {
            "agent": md.get(meta.AGENT),
            "node": md.get("langgraph_node"),
            "experiment": md.get(meta.EXPERIMENT),
            "variant": md.get(meta.VARIANT),
            "unit_id": md.get(meta.UNIT_ID),
            "model_id": md.get(meta.MODEL_ID),
        }

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        call = self.starts.pop(run_id, None)
        if call is not None:
            message = response.generations[0][0].message
            self.calls.append({**call, "model_name": message.response_metadata.get("model_name")})

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        call = self.starts.pop(run_id, None)
        if call is not None:
            self.calls.append({**call, "model_name": None, "error": type(error).__name__})


def run_dataset(
    workflow: WorkflowSpec,
    config: ExperimentsConfig,
    items: Sequence[Mapping[str, Any]],
    *,
    prefix: str = "t",
    callbacks: Sequence[BaseCallbackHandler] = (),
) -> list[dict[str, Any]]:
    """Final states of one session per item (session ids ``{prefix}-{i}``), on an in-memory store."""
    graph = workflow.build(config, "memory://")
    run_config: Any = {"callbacks": list(callbacks)} if callbacks else None
    return [
        graph.invoke(workflow.session_input(item, f"{prefix}-{i}"), run_config)
        for i, item in enumerate(items)
    ]
