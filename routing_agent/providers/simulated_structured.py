"""Structured output and standard content blocks for the simulated provider.

``structured_runnable`` parses the forced tool call of ``with_structured_output`` the way LangChain's
provider integrations do: malformed arguments raise ``OutputParserException`` (they arrive as an
``invalid_tool_call``), a refusal raises ``ModelRefusalError``. ``register_translator`` teaches LangChain's
``content_blocks`` to read simulated messages, so a refusal appears as a standard ``refusal`` block.
"""

from __future__ import annotations

__all__ = ["parse_structured", "register_translator", "structured_runnable"]

import json
from typing import Any

from langchain_core.exceptions import ModelRefusalError, OutputParserException
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages import content as types
from langchain_core.messages.block_translators import register_translator as _register
from langchain_core.output_parsers import BaseGenerationOutputParser
from langchain_core.outputs import ChatGeneration, Generation
from langchain_core.runnables import Runnable
from pydantic import BaseModel, ValidationError

from routing_agent.providers.refusal import is_refusal


def parse_structured(message: BaseMessage, schema: dict[str, Any] | type, name: str) -> Any:
    """The tool call named ``name`` in ``message``, validated into ``schema``.

    Raises ``ModelRefusalError`` on a refusal and ``OutputParserException`` on missing, malformed or
    invalid arguments.
    """
    if is_refusal(message):
        raise ModelRefusalError(
            f"Model refused to produce the requested output: {message.text}", raw_message=message
        )
    assert isinstance(message, AIMessage)
    for bad in message.invalid_tool_calls:
        if bad.get("name") == name:
            raise OutputParserException(
                f"Function {name} arguments:\n\n{bad.get('args')}\n\nare not valid JSON. "
                f"Received JSONDecodeError {bad.get('error')}",
                llm_output=bad.get("args") or "",
            )
    for call in message.tool_calls:
        if call["name"] != name:
            continue
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            try:
                return schema.model_validate(call["args"])
            except ValidationError as exc:
                raise OutputParserException(str(exc), llm_output=json.dumps(call["args"])) from exc
        return call["args"]
    raise OutputParserException(f"the model did not call '{name}'", llm_output=message.text)


class _StructuredParser(BaseGenerationOutputParser[Any]):
    """``parse_structured`` as an output parser (cheaper per call than a ``RunnableLambda``)."""

    target: Any
    """The schema (pydantic class, TypedDict or JSON schema dict)."""
    name: str
    include_raw: bool = False

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        message = result[0].message if isinstance(result[0], ChatGeneration) else AIMessage(result[0].text)
        if not self.include_raw:
            return parse_structured(message, self.target, self.name)
        try:
            parsed = parse_structured(message, self.target, self.name)
        except OutputParserException as exc:
            return {"raw": message, "parsed": None, "parsing_error": exc}
        return {"raw": message, "parsed": parsed, "parsing_error": None}


def structured_runnable(
    bound: Runnable[LanguageModelInput, AIMessage],
    schema: dict[str, Any] | type,
    name: str,
    *,
    include_raw: bool,
) -> Runnable[LanguageModelInput, Any]:
    """``bound`` (a model with the schema forced as a tool) followed by the parser."""
    return bound | _StructuredParser(target=schema, name=name, include_raw=include_raw)


def _blocks(message: AIMessage, *, chunk: bool) -> list[types.ContentBlock]:
    text = message.content if isinstance(message.content, str) else message.text
    blocks: list[types.ContentBlock] = []
    refusal = message.additional_kwargs.get("refusal") or (
        text if message.response_metadata.get("finish_reason") == "refusal" else None
    )
    if refusal:
        blocks.append({"type": "refusal", "refusal": str(refusal)})
    elif text:
        blocks.append({"type": "text", "text": text})
    if chunk and isinstance(message, AIMessageChunk):
        for tcc in message.tool_call_chunks:
            block: types.ToolCallChunk = {
                "type": "tool_call_chunk",
                "name": tcc.get("name"),
                "args": tcc.get("args"),
                "id": tcc.get("id"),
            }
            index = tcc.get("index")
            if index is not None:
                block["index"] = index
            blocks.append(block)
        return blocks
    for tc in message.tool_calls:
        blocks.append({"type": "tool_call", "name": tc["name"], "args": tc["args"], "id": tc.get("id")})
    for bad in message.invalid_tool_calls:
        blocks.append(
            {
                "type": "invalid_tool_call",
                "name": bad.get("name"),
                "args": bad.get("args"),
                "id": bad.get("id"),
                "error": bad.get("error"),
            }
        )
    return blocks


def register_translator() -> None:
    """Register the ``simulated`` content-block translator with LangChain."""
    _register(
        "simulated",
        lambda message: _blocks(message, chunk=False),
        lambda chunk: _blocks(chunk, chunk=True),
    )
