"""Which graph nodes are agents, the conversation id on every span, and the workflow's name — with real
LangGraph graphs, LangChain's ``create_agent`` and the real OTel SDK."""

from __future__ import annotations

from typing import Any

from langchain.agents import create_agent
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from routing_agent.providers.simulated import SimulatedChatModel
from routing_agent.telemetry import RoutingTelemetry, backends
from routing_agent.telemetry import semconv as sc
from routing_agent.telemetry.graph_spans import NODE_ROLE
from tests.telemetry.conftest import Otel
from tests.telemetry.support import build_graph, experiments, scripted_catalog


def _model() -> SimulatedChatModel:
    return SimulatedChatModel(sim_profile="strong-expensive", time_scale=0)


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"sunny in {city}"


def _by_name(spans: list[ReadableSpan]) -> dict[str, list[ReadableSpan]]:
    out: dict[str, list[ReadableSpan]] = {}
    for span in spans:
        out.setdefault(span.name, []).append(span)
    return out


def _parent(spans: list[ReadableSpan], span: ReadableSpan) -> ReadableSpan | None:
    if span.parent is None:
        return None
    return next(s for s in spans if s.context.span_id == span.parent.span_id)


def _chat_app(**node_metadata: Any) -> Any:
    model = _model()

    def writer(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"], config)]}

    def record(state: MessagesState) -> dict[str, Any]:
        return {}

    g = StateGraph(MessagesState)
    g.add_node("writer", writer, metadata=node_metadata or None)
    g.add_node("record", record)
    g.add_edge(START, "writer")
    g.add_edge("writer", "record")
    g.add_edge("record", END)
    return g.compile(checkpointer=InMemorySaver())


def test_nodes_without_model_calls_are_steps_and_every_span_has_the_thread(
    otel: Otel, handler: RoutingTelemetry
) -> None:
    app = _chat_app()
    for turn in range(2):
        app.invoke(
            {"messages": [{"role": "user", "content": f"hello {turn}"}]},
            {"callbacks": [handler], "configurable": {"thread_id": "thread-7"}},
        )
    spans = otel.spans()
    names = _by_name(spans)
    assert len(names["invoke_workflow LangGraph"]) == 2
    assert len(names["invoke_agent writer"]) == 2 and len(names["record"]) == 2
    assert not [s for s in spans if s.name.startswith("invoke_agent record")]
    for step in names["record"]:
        assert sc.GEN_AI_OPERATION_NAME not in step.attributes
        assert step.attributes[backends.OPENINFERENCE_SPAN_KIND] == "CHAIN"
        assert step.attributes[backends.MLFLOW_SPAN_TYPE] == "CHAIN"
    for span in spans:  # workflow, agent, step and chat spans alike
        assert span.attributes[sc.GEN_AI_CONVERSATION_ID] == "thread-7", span.name


def test_declared_roles_win(otel: Otel) -> None:
    # a node marked "step" is not an agent even though it calls a model
    handler = RoutingTelemetry(tracer_provider=otel.tracer_provider)
    _chat_app(**{NODE_ROLE: "step"}).invoke(
        {"messages": [{"role": "user", "content": "hi"}]},
        {"callbacks": [handler], "configurable": {"thread_id": "t"}},
    )
    assert "writer" in _by_name(otel.spans()) and "invoke_agent writer" not in _by_name(otel.spans())
    otel.spans_exporter.clear()
    # agents= names exactly the agents: 'writer' is not one, 'record' is (it calls no model)
    handler = RoutingTelemetry(tracer_provider=otel.tracer_provider, agents={"record"})
    _chat_app().invoke(
        {"messages": [{"role": "user", "content": "hi"}]},
        {"callbacks": [handler], "configurable": {"thread_id": "t"}},
    )
    names = _by_name(otel.spans())
    assert "writer" in names and "invoke_agent record" in names


def test_create_agent_node_is_one_agent_and_its_nodes_are_steps(
    otel: Otel, handler: RoutingTelemetry
) -> None:
    researcher = create_agent(_model(), [get_weather], name="researcher")
    g = StateGraph(MessagesState)
    g.add_node("research", researcher)
    g.add_edge(START, "research")
    g.add_edge("research", END)
    g.compile(name="desk").invoke(
        {"messages": [{"role": "user", "content": "What is the weather in Paris?"}]}, {"callbacks": [handler]}
    )
    spans = otel.spans()
    names = _by_name(spans)
    [agent] = names["invoke_agent researcher"]
    assert agent.attributes[sc.GEN_AI_AGENT_NAME] == "researcher"
    assert agent.attributes[backends.OPENINFERENCE_SPAN_KIND] == "AGENT"
    assert _parent(spans, agent) is names["invoke_workflow desk"][0]
    assert not [s for s in spans if s.name in ("invoke_agent model", "invoke_agent tools")]
    assert len(names["model"]) == 2 and len(names["tools"]) == 1  # call the tool, then answer
    for step in names["model"] + names["tools"]:
        assert _parent(spans, step) is agent
    chats = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert len(chats) == 2 and all(_parent(spans, c).name == "model" for c in chats)  # type: ignore[union-attr]
    assert agent.attributes[sc.GEN_AI_PROVIDER_NAME] == "simulated"


def test_standalone_and_sub_agents(otel: Otel, handler: RoutingTelemetry) -> None:
    """A create_agent graph invoked directly is the root agent; a sub-agent called from a tool nests."""
    researcher = create_agent(_model(), [get_weather], name="researcher")

    @tool
    def ask_researcher(question: str) -> str:
        """Ask the research agent a question about the weather."""
        out = researcher.invoke({"messages": [{"role": "user", "content": question}]})
        return str(out["messages"][-1].content)

    supervisor = create_agent(_model(), [ask_researcher], name="supervisor")
    result = supervisor.invoke(
        {"messages": [{"role": "user", "content": "Ask the researcher about the weather in Oslo"}]},
        {"callbacks": [handler]},
    )
    assert isinstance(result["messages"][-1], AIMessage)
    spans = otel.spans()
    names = _by_name(spans)
    [root] = [s for s in spans if s.parent is None]
    assert root.name == "invoke_agent supervisor"
    [sub] = names["invoke_agent researcher"]
    chain = []
    node = _parent(spans, sub)
    while node is not None:
        chain.append(node.name)
        node = _parent(spans, node)
    assert chain == ["tools", "invoke_agent supervisor"]
    assert not [s for s in spans if s.name in ("invoke_agent model", "invoke_agent tools")]


def test_unnamed_graphs_take_the_workflow_name_and_named_ones_keep_theirs(otel: Otel) -> None:
    handler = RoutingTelemetry(tracer_provider=otel.tracer_provider, workflow_name="support-desk")
    _chat_app().invoke(
        {"messages": [{"role": "user", "content": "hi"}]},
        {"callbacks": [handler], "configurable": {"thread_id": "t"}},
    )
    build_graph(experiments(), scripted_catalog()).invoke({"session_id": "s"}, {"callbacks": [handler]})
    roots = sorted(s.name for s in otel.spans() if s.parent is None)
    assert roots == ["invoke_workflow support-desk", "invoke_workflow support-flow"]
