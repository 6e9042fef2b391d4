"""The citation hand-over conventions."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage

from routing_agent.telemetry.citations import citation_set, extract_citations, with_citations


def test_response_metadata_first_then_additional_kwargs() -> None:
    msg = AIMessage(
        "x", response_metadata={"citations": ["b", "a", "b"]}, additional_kwargs={"citations": ["z"]}
    )
    assert extract_citations(msg) == ("a", "b")
    assert extract_citations(AIMessage("x", additional_kwargs={"citations": ["https://u/1"]})) == (
        "https://u/1",
    )


def test_structured_output_tool_call() -> None:
    msg = AIMessage(
        "", tool_calls=[{"name": "Answer", "args": {"answer": "42", "citations": ["doc-3"]}, "id": "1"}]
    )
    assert extract_citations(msg) == ("doc-3",)


def test_anthropic_content_blocks_and_json_text() -> None:
    blocks = [
        {"type": "text", "text": "x", "citations": [{"document_title": "Policy", "type": "char_location"}]}
    ]
    assert extract_citations(AIMessage(content=blocks)) == ("Policy",)
    assert extract_citations(AIMessage('{"answer": "y", "citations": [{"id": 7}, "doc-1"]}')) == (
        "7",
        "doc-1",
    )


def test_no_citations_is_none_and_empty_list_is_empty_set() -> None:
    assert extract_citations(AIMessage("plain answer")) is None
    assert extract_citations(HumanMessage("q")) is None
    assert extract_citations(AIMessage("x", response_metadata={"citations": []})) == ()
    assert citation_set("not-a-list") is None


def test_with_citations_helper() -> None:
    msg = with_citations(AIMessage("x"), ["d2", {"source": "d1"}])
    assert extract_citations(msg) == ("d1", "d2")
