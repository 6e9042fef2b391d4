"""Attribute, metric and environment-variable names, in one place.

GenAI names follow the OpenTelemetry GenAI semantic conventions (``semantic-conventions-genai``:
``gen-ai-spans.md``, ``gen-ai-agent-spans.md``, ``gen-ai-metrics.md``; status *Development*). They are kept
here rather than imported from ``opentelemetry-semantic-conventions`` because that package marks its GenAI
constants deprecated and lags the published documents. Our own attributes live under ``routing_agent.``.
"""

from __future__ import annotations

__all__ = [
    "CAPTURE_CONTENT_ENV",
    "DURATION_BUCKETS",
    "ERROR_TYPE",
    "EVENT_GEN_AI_EVALUATION_RESULT",
    "GEN_AI_AGENT_NAME",
    "GEN_AI_CONVERSATION_ID",
    "GEN_AI_EVALUATION_EXPLANATION",
    "GEN_AI_EVALUATION_NAME",
    "GEN_AI_EVALUATION_SCORE_LABEL",
    "GEN_AI_EVALUATION_SCORE_VALUE",
    "GEN_AI_INPUT_MESSAGES",
    "GEN_AI_OPERATION_NAME",
    "GEN_AI_OUTPUT_MESSAGES",
    "GEN_AI_PROVIDER_NAME",
    "GEN_AI_REQUEST_MAX_TOKENS",
    "GEN_AI_REQUEST_MODEL",
    "GEN_AI_REQUEST_STREAM",
    "GEN_AI_REQUEST_TEMPERATURE",
    "GEN_AI_RESPONSE_FINISH_REASONS",
    "GEN_AI_RESPONSE_ID",
    "GEN_AI_RESPONSE_MODEL",
    "GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK",
    "GEN_AI_TOKEN_TYPE",
    "GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS",
    "GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS",
    "GEN_AI_USAGE_INPUT_TOKENS",
    "GEN_AI_USAGE_OUTPUT_TOKENS",
    "GEN_AI_USAGE_REASONING_OUTPUT_TOKENS",
    "GEN_AI_WORKFLOW_NAME",
    "LANGCHAIN_PROVIDER_ALIASES",
    "METRIC_CLIENT_OPERATION_DURATION",
    "METRIC_CLIENT_TIME_TO_FIRST_CHUNK",
    "METRIC_CLIENT_TOKEN_USAGE",
    "METRIC_COST",
    "METRIC_TELEMETRY_ERRORS",
    "METRIC_UNPRICED_CALLS",
    "OP_CHAT",
    "OP_INVOKE_AGENT",
    "OP_INVOKE_WORKFLOW",
    "PROVIDER_NAMES",
    "RA_AGENT",
    "RA_ASSIGNMENTS",
    "RA_CITATIONS",
    "RA_COST_USD",
    "RA_DURATION_SOURCE",
    "RA_EXPERIMENT",
    "RA_LATENCY_S",
    "RA_MODEL_ID",
    "RA_REASON",
    "RA_REFUSAL",
    "RA_ROLE",
    "RA_UNIT",
    "RA_UNIT_ID",
    "RA_UNPRICED",
    "RA_USAGE_MISSING",
    "RA_VARIANT",
    "ROLE_SHADOW",
    "TOKEN_BUCKETS",
    "TOKEN_TYPE_INPUT",
    "TOKEN_TYPE_OUTPUT",
    "canonical_provider",
]

# --- GenAI operation names (gen_ai.operation.name values) ------------------------------------------------
OP_CHAT = "chat"
"""Chat completion: the operation of every LangChain chat-model call."""
OP_INVOKE_AGENT = "invoke_agent"
"""An agent invocation in the same process: one LangGraph node run (span kind INTERNAL)."""
OP_INVOKE_WORKFLOW = "invoke_workflow"
"""A workflow that coordinates several agents: one LangGraph graph invocation (span kind INTERNAL)."""

# --- GenAI attributes ------------------------------------------------------------------------------------
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
"""The operation: ``chat``, ``invoke_agent`` or ``invoke_workflow`` here."""
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
"""The provider as the client knows it: ``openai``, ``anthropic``, ``aws.bedrock``, ``simulated`` …"""
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
"""The model name sent in the request."""
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
"""The model name the response reports (may be more specific than the request's)."""
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
"""The provider's completion id."""
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
"""string[]: why the model stopped, one per generation."""
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"
"""double, seconds: request issued → first streamed chunk carrying content (text, tool-call or reasoning
delta; an empty role chunk does not count). Only on streamed calls."""
GEN_AI_REQUEST_STREAM = "gen_ai.request.stream"
"""boolean: the request was made in streaming mode (we set it when at least one chunk arrived)."""
GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
"""double: the sampling temperature of the request."""
GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
"""int: the maximum number of tokens the model may generate."""
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
"""int: input tokens, cached ones included."""
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
"""int: output tokens."""
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
"""int: input tokens served from a provider-managed cache (included in the input tokens)."""
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
"""int: input tokens written to a provider-managed cache (included in the input tokens)."""
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"
"""int: output tokens spent on reasoning."""
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"
"""The conversation (session, thread) id: the unit id for session units, else LangGraph's ``thread_id``."""
GEN_AI_AGENT_NAME = "gen_ai.agent.name"
"""The agent's name: the LangGraph node name."""
GEN_AI_WORKFLOW_NAME = "gen_ai.workflow.name"
"""The workflow's name: the compiled graph's name (``LangGraph`` unless the graph was named)."""
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
"""Opt-in: the chat history sent to the model, as a JSON string following the input-messages schema."""
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
"""Opt-in: the model's output messages, as a JSON string following the output-messages schema."""
GEN_AI_TOKEN_TYPE = "gen_ai.token.type"
"""Metric attribute of ``gen_ai.client.token.usage``: ``input`` or ``output``."""
TOKEN_TYPE_INPUT = "input"
TOKEN_TYPE_OUTPUT = "output"
ERROR_TYPE = "error.type"
"""The exception's qualified class name when the operation failed (``_OTHER`` when unknown)."""

# --- GenAI evaluation event (written by routing_agent.scoring.events) ------------------------------------
EVENT_GEN_AI_EVALUATION_RESULT = "gen_ai.evaluation.result"
"""Event: one evaluation of a GenAI output, parented to the evaluated span (``events.yaml``)."""
GEN_AI_EVALUATION_NAME = "gen_ai.evaluation.name"
"""Required on the event: the evaluation's name (our scorer name, the observation metric)."""
GEN_AI_EVALUATION_SCORE_VALUE = "gen_ai.evaluation.score.value"
"""double: the score, when there is one."""
GEN_AI_EVALUATION_SCORE_LABEL = "gen_ai.evaluation.score.label"
"""A short verdict label (``match``, ``4``, ``tie``, ``invalid`` …)."""
GEN_AI_EVALUATION_EXPLANATION = "gen_ai.evaluation.explanation"
"""Why the evaluator gave the score."""

# --- routing-agent attributes ----------------------------------------------------------------------------
RA_EXPERIMENT = "routing_agent.experiment"
"""The experiment id that routed this call (absent when no experiment applied)."""
RA_VARIANT = "routing_agent.variant"
"""The variant the unit is in."""
RA_UNIT = "routing_agent.unit"
"""The unit kind: session | user | request."""
RA_UNIT_ID = "routing_agent.unit_id"
"""The unit id (spans only; never a metric attribute: unbounded cardinality)."""
RA_REASON = "routing_agent.reason"
"""Why the unit got its variant (``hashed``, ``sticky``, ``rolled_back`` …)."""
RA_AGENT = "routing_agent.agent"
"""The agent the model was resolved for."""
RA_MODEL_ID = "routing_agent.model_id"
"""The YAML model id, ``provider:model``."""
RA_COST_USD = "routing_agent.cost_usd"
"""double: the call's cost in USD. Absent when the model has no price (then ``routing_agent.unpriced``)."""
RA_UNPRICED = "routing_agent.unpriced"
"""boolean true when the call could not be priced (no price in genai-prices nor the YAML, or no usage)."""
RA_USAGE_MISSING = "routing_agent.usage_missing"
"""boolean true when the response reported no token usage (so it cannot be priced). Typical cause: a
streamed call to an OpenAI-compatible endpoint without ``stream_usage`` (see ``providers.catalog``)."""
RA_CITATIONS = "routing_agent.citations"
"""string[]: the sorted set of source ids the answer cites (see ``routing_agent.telemetry.citations``)."""
RA_REFUSAL = "routing_agent.refusal"
"""boolean true when the model refused (finish reason ``refusal``/``content_filter`` or a refusal field)."""
RA_LATENCY_S = "routing_agent.latency_s"
"""double: the call's latency in seconds as recorded in metrics and observations (see duration source)."""
RA_DURATION_SOURCE = "routing_agent.duration_source"
"""``measured`` (wall clock) or ``reported`` (the model reported its own latency, e.g. the simulator)."""
RA_ROLE = "routing_agent.role"
"""Run-metadata key and span attribute: ``judge`` (an LLM-as-judge call) or ``shadow`` (a shadow/replay run).
Calls with a role are traced, but a ``shadow`` call emits no observations (it is not live traffic)."""
ROLE_SHADOW = "shadow"
RA_ASSIGNMENTS = "routing_agent.assignments"
"""string[]: ``experiment=variant (reason)`` for every experiment decided by a routing node."""

# --- metrics ---------------------------------------------------------------------------------------------
METRIC_CLIENT_OPERATION_DURATION = "gen_ai.client.operation.duration"
"""Histogram, s: GenAI operation duration."""
METRIC_CLIENT_TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
"""Histogram, s: time to the first streamed chunk; recorded for streamed calls only."""
METRIC_CLIENT_TOKEN_USAGE = "gen_ai.client.token.usage"
"""Histogram, {token}: input and output tokens per call (``gen_ai.token.type``)."""
METRIC_COST = "routing_agent.client.cost"
"""Counter, USD: cost of priced calls, per experiment/variant/model."""
METRIC_UNPRICED_CALLS = "routing_agent.client.unpriced_calls"
"""Counter, {call}: calls that could not be priced."""
METRIC_TELEMETRY_ERRORS = "routing_agent.telemetry.errors"
"""Counter, {error}: exceptions raised inside our own telemetry code (logged once, never propagated)."""

DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
"""Explicit bucket boundaries the conventions give for duration and TTFT histograms."""
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
"""Explicit bucket boundaries the conventions give for the token-usage histogram."""

PROVIDER_NAMES: dict[str, str] = {
    "openai": "openai",
    "azure_openai": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "anthropic": "anthropic",
    "google_genai": "gcp.gen_ai",
    "google_vertexai": "gcp.vertex_ai",
    "google_anthropic_vertex": "gcp.vertex_ai",
    "bedrock": "aws.bedrock",
    "bedrock_converse": "aws.bedrock",
    "amazon_bedrock": "aws.bedrock",
    "mistralai": "mistral_ai",
    "groq": "groq",
    "deepseek": "deepseek",
    "cohere": "cohere",
    "xai": "x_ai",
    "perplexity": "perplexity",
    "ibm": "ibm.watsonx.ai",
}
"""LangChain provider ids (``init_chat_model`` prefixes, ``ls_provider``) → well-known
``gen_ai.provider.name`` values. Providers not listed keep their own id (e.g. ``simulated``), as the
conventions allow."""

LANGCHAIN_PROVIDER_ALIASES: dict[str, str] = {
    "openai-chat": "openai",
    "azure-openai-chat": "azure_openai",
    "anthropic-chat": "anthropic",
    "chat-google-generative-ai": "google_genai",
    "google_gemini": "google_genai",
    "vertexai": "google_vertexai",
    "amazon_bedrock_chat": "bedrock",
    "amazon_bedrock_converse_chat": "bedrock_converse",
    "mistralai-chat": "mistralai",
    "groq-chat": "groq",
    "chat-deepseek": "deepseek",
    "cohere-chat": "cohere",
    "xai-chat": "xai",
    "fireworks-chat": "fireworks",
    "together-chat": "together",
    "perplexitychat": "perplexity",
    "chat-ollama": "ollama",
    "azure-ai-chat": "azure_ai",
}
"""LangChain chat models' ``_llm_type`` (what a ready model reports, e.g. ``ChatOpenAI`` → ``openai-chat``)
→ the provider id ``init_chat_model`` uses, so a ready model and a YAML id name the same provider."""


def canonical_provider(provider: str) -> str:
    """The ``init_chat_model`` provider id of a LangChain provider id or ``_llm_type``."""
    return LANGCHAIN_PROVIDER_ALIASES.get(provider, provider)


# --- environment -----------------------------------------------------------------------------------------
CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""``true`` records prompts and responses on spans (off by default)."""
