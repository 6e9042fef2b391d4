"""The three RAG agents. Each calls its routed model and degrades instead of raising.

retriever → the relevant passages among keyword hits · answerer → answer citing [doc-id] · citer → the
passages that support the answer (the session's final citations; if the citer fails, the answer's own).
"""

from __future__ import annotations

__all__ = ["answerer", "citer", "retriever"]

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig

from routing_agent.workflows.base import ask, failure_update, render_sections
from routing_agent.workflows.rag_qa import prompts
from routing_agent.workflows.rag_qa.data import corpus, corpus_index

SEARCH_K = 6
MAX_PASSAGES = 3


def _request(state: dict[str, Any]) -> str:
    return f"Session {state['session_id']}"


def retriever(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
    """BM25 hits reranked by the model; the top three go to the answerer (fallback: keyword order)."""
    hits = corpus_index().search(state["question"], SEARCH_K)
    sections = {
        "Request": _request(state),
        "Question": state["question"],
        "Passages": prompts.passage_block(hits, corpus()),
    }
    messages = [SystemMessage(prompts.RETRIEVER_SYSTEM), HumanMessage(render_sections(sections))]
    reply = ask(state, config, "retriever", messages)
    if not reply.ok:
        return {"hits": hits, "passages": hits[:MAX_PASSAGES], **failure_update(reply, "retriever")}
    chosen = prompts.parse_doc_ids(reply.text, hits)
    ranked = chosen + [doc for doc in hits if doc not in chosen]  # reranked: the model's picks first
    return {"hits": hits, "passages": ranked[:MAX_PASSAGES]}


def answerer(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
    """The answer, citing passages inline."""
    sections = {
        "Request": _request(state),
        "Question": state["question"],
        "Passages": prompts.passage_block(state.get("passages") or [], corpus()) or "(no passages)",
    }
    messages = [SystemMessage(prompts.ANSWERER_SYSTEM), HumanMessage(render_sections(sections))]
    reply = ask(state, config, "answerer", messages, stream=True)  # streamed: its TTFT is measured
    if not reply.ok:
        return {"answer": None, "answer_citations": [], **failure_update(reply, "answerer")}
    return {"answer": reply.text, "answer_citations": prompts.parse_citations(reply.text)}


def citer(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
    """The passages that support the answer: the session's citations."""
    passages = state.get("passages") or []
    sections = {
        "Request": _request(state),
        "Question": state["question"],
        "Answer": state.get("answer") or "",
        "Passages": prompts.passage_block(passages, corpus()) or "(no passages)",
    }
    messages = [SystemMessage(prompts.CITER_SYSTEM), HumanMessage(render_sections(sections))]
    reply = ask(state, config, "citer", messages)
    if not reply.ok:
        return {"citations": list(state.get("answer_citations") or []), **failure_update(reply, "citer")}
    return {"citations": prompts.parse_doc_ids(reply.text, passages)}
