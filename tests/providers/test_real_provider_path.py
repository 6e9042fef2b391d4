"""Real model ids resolve through LangChain's ``init_chat_model`` with no code change.

The honest way to prove it offline: ``openai:gpt-test`` with a ``base_url`` param builds LangChain's real
``ChatOpenAI`` (from ``langchain-openai``, a dev dependency) exactly as production would; only the network
peer is local — a minimal OpenAI-compatible HTTP server in this test, the way the Redis tests use a real
local server. The same routed graph then mixes a simulated control with a "real" candidate, and a 429 from
the server arrives as LangChain's ``ModelRateLimitError`` — the same class the simulator raises.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai
import pytest
from langchain_core.exceptions import ModelRateLimitError
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from routing_agent.config.spec import AgentModelSpec, ExperimentsConfig, ExperimentSpec, VariantSpec
from routing_agent.graph import RoutingNode, RoutingState, routed_model
from routing_agent.providers.catalog import catalog
from routing_agent.providers.profiles import SimulatedProfile, profiles
from routing_agent.providers.simulated import SimulatedChatModel


class _OpenAICompatible(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]]

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)  # type: ignore[attr-defined]
        text = " ".join(str(m.get("content")) for m in body["messages"])
        if "RATE-LIMIT" in text:
            payload = {
                "error": {"message": "Rate limit reached", "type": "rate_limit_error", "code": "rate_limit"}
            }
            status = 429
        else:
            status = 200
            payload = {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": f"real answer from {body['model']}"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16},
            }
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def openai_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OpenAICompatible)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", server.requests  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _test_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RA_TEST_OPENAI_KEY", "sk-test")


def _params(url: str) -> dict[str, Any]:
    # Secrets are referenced by environment variable name (the config refuses an api_key param).
    return {"base_url": url, "api_key_env": "RA_TEST_OPENAI_KEY", "max_retries": 0, "timeout": 5}


def test_openai_id_builds_langchains_chatopenai(openai_server: tuple[str, list[dict[str, Any]]]) -> None:
    url, requests = openai_server
    model = catalog.get("openai:gpt-test", _params(url))
    assert type(model).__name__ == "ChatOpenAI"
    reply = model.invoke("hello")
    assert reply.text == "real answer from gpt-test"
    assert reply.usage_metadata is not None and reply.usage_metadata["total_tokens"] == 16
    assert requests[-1]["model"] == "gpt-test"


class _State(RoutingState, total=False):
    session_id: str
    seen: list[tuple[str, str]]


def _agent(state: _State, config: RunnableConfig) -> dict[str, Any]:
    reply = routed_model(state, config).invoke(f"session {state['session_id']}", config)
    return {
        "seen": [*state.get("seen", []), (str(reply.response_metadata.get("model_provider")), reply.text)]
    }


def test_routed_graph_mixes_simulated_control_and_real_candidate(
    openai_server: tuple[str, list[dict[str, Any]]],
) -> None:
    url, requests = openai_server
    config = ExperimentsConfig(
        default_model=AgentModelSpec(model="simulated:strong-expensive", params={"time_scale": 0}),
        experiments=(
            ExperimentSpec(
                id="real-path",
                variants=(
                    VariantSpec(
                        name="control",
                        model="simulated:strong-expensive",
                        params={"time_scale": 0},
                        control=True,
                    ),
                    VariantSpec(name="candidate", model="openai:gpt-test", params=_params(url)),
                ),
            ),
        ),
    )
    graph = StateGraph(_State)
    graph.add_node("route", RoutingNode(config))
    graph.add_node("writer", _agent)
    graph.add_node("reviewer", _agent)
    graph.add_edge(START, "route")
    graph.add_edge("route", "writer")
    graph.add_edge("writer", "reviewer")
    graph.add_edge("reviewer", END)
    app = graph.compile()
    variants = {}
    for i in range(40):
        state = app.invoke({"session_id": f"real-{i}"})
        variant = state["routing"]["real-path"]["variant"]
        variants[variant] = variants.get(variant, 0) + 1
        providers = {provider for provider, _ in state["seen"]}
        if variant == "candidate":
            assert providers == {"openai"}
            assert all(text == "real answer from gpt-test" for _, text in state["seen"])
        else:
            assert providers == {"simulated"}
    assert variants.get("candidate", 0) > 5 and variants.get("control", 0) > 5
    assert len(requests) == 2 * variants["candidate"]  # both agents of every candidate session, nobody else


def _status_if_rate_limited(model: Any, prompt: str) -> int | None:
    try:
        model.invoke(prompt)
    except ModelRateLimitError as exc:  # one except clause for every provider
        return int(getattr(exc, "status_code", 0))
    return None


def test_real_and_simulated_rate_limits_are_the_same_langchain_error(
    openai_server: tuple[str, list[dict[str, Any]]],
) -> None:
    url, _ = openai_server
    real = catalog.get("openai:gpt-test", _params(url))
    with pytest.raises(openai.RateLimitError):
        real.invoke("RATE-LIMIT please")
    always = SimulatedProfile.model_validate(
        {
            **profiles.get("fast-cheap").model_dump(exclude={"name"}),
            "name": "always-429",
            "errors": {"rate_limit": 1.0},
        }
    )
    simulated = SimulatedChatModel(sim_profile=always, time_scale=0)
    assert _status_if_rate_limited(real, "RATE-LIMIT now") == 429
    assert _status_if_rate_limited(simulated, "anything") == 429
    assert _status_if_rate_limited(real, "fine") is None
