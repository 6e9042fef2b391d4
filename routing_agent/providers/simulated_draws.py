"""Deterministic random draws for the simulated provider, and the latency / error / length samplers.

Every draw is a keyed hash of the call's input digest and a label, so it is the same whenever the same
(seed, input) comes back, independent of call order, threads or processes. ``shared`` draws ignore the
profile: two profiles facing the same input share them (common random numbers), which is what makes a
stronger profile right wherever a weaker one is, and a candidate's citation drift measurable against the
control on identical inputs. ``own`` draws add the profile name (latency, infrastructure errors).
"""

from __future__ import annotations

__all__ = [
    "Draws",
    "Timing",
    "estimate_tokens",
    "input_digest",
    "message_tokens",
    "pick_error",
    "sample_timing",
]

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from langchain_core.messages import BaseMessage

from routing_agent.providers.profiles import ErrorSpec, LatencySpec

_TWO_64 = float(2**64)
_NORMAL = NormalDist()


def _uniform(data: bytes) -> float:
    digest = hashlib.blake2b(data, digest_size=8).digest()
    # map to (0, 1): never exactly 0, so inverse CDFs stay finite
    return (int.from_bytes(digest, "big") + 0.5) / _TWO_64


class Draws:
    """Uniform(0, 1) draws keyed on (input digest, label) — shared — or (input digest, profile, label)."""

    __slots__ = ("_own", "_shared")

    def __init__(self, digest: bytes, profile: str) -> None:
        self._shared = digest + b"\x1f"
        self._own = digest + b"\x1e" + profile.encode() + b"\x1f"

    def shared(self, label: str) -> float:
        """A draw every profile gets for this input."""
        return _uniform(self._shared + label.encode())

    def own(self, label: str) -> float:
        """A draw specific to this profile and input."""
        return _uniform(self._own + label.encode())

    def index(self, label: str, n: int) -> int:
        """A shared draw mapped to ``range(n)`` (``n`` > 0)."""
        return min(int(self.shared(label) * n), n - 1)

    def normal(self, label: str, *, own: bool = False) -> float:
        """A standard-normal draw (shared unless ``own``)."""
        return _NORMAL.inv_cdf(self.own(label) if own else self.shared(label))


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return json.dumps(content, sort_keys=True, default=str)


def input_digest(
    messages: Sequence[BaseMessage],
    seed: int,
    tools: Sequence[Mapping[str, Any]] = (),
    tool_choice: Any = None,
) -> bytes:
    """A 16-byte digest of everything that defines a call's answer: seed, messages, bound tools."""
    h = hashlib.blake2b(digest_size=16)
    h.update(str(seed).encode())
    for message in messages:
        h.update(b"\x1d" + message.type.encode() + b"\x1c" + _content_text(message.content).encode())
        tool_calls = getattr(message, "tool_calls", None)
        if tool_calls:
            h.update(json.dumps(tool_calls, sort_keys=True, default=str).encode())
    for tool in tools:
        function = tool.get("function", tool)
        h.update(b"\x1b" + str(function.get("name", "")).encode())
    if tool_choice is not None:
        h.update(b"\x1a" + json.dumps(tool_choice, sort_keys=True, default=str).encode())
    return h.digest()


def estimate_tokens(text: str) -> int:
    """Token count estimate (~4 characters per token, the usual rule of thumb for English)."""
    return max(1, (len(text) + 3) // 4)


def message_tokens(messages: Sequence[BaseMessage]) -> int:
    """Estimated input tokens of a prompt (content plus a few tokens of framing per message)."""
    return sum(estimate_tokens(_content_text(m.content)) + 4 for m in messages) + 3


@dataclass(frozen=True, slots=True)
class Timing:
    """Simulated seconds: time to first token, and total (first token + decoding)."""

    ttft_s: float
    total_s: float
    spiked: bool


def sample_timing(spec: LatencySpec, draws: Draws, input_tokens: int, output_tokens: int) -> Timing:
    """Log-normal time to first token (+ prefill), log-normal decoding speed, occasional spike."""
    ttft = spec.ttft_median_s * math.exp(spec.ttft_sigma * draws.normal("lat:ttft", own=True))
    ttft += spec.per_input_token_s * input_tokens
    per_token = spec.per_output_token_s * math.exp(spec.per_token_sigma * draws.normal("lat:tpot", own=True))
    decode = per_token * max(output_tokens - 1, 0)
    spiked = draws.own("lat:spike") < spec.spike_rate
    if spiked:
        low, high = spec.spike_multiplier
        factor = low + (high - low) * draws.own("lat:spike-size")
        ttft *= factor
        decode *= factor
    return Timing(ttft_s=ttft, total_s=ttft + decode, spiked=spiked)


def pick_error(spec: ErrorSpec, draws: Draws) -> str | None:
    """Which provider error this call hits (``rate_limit``, ``server``, ``overloaded``, ``connection``)."""
    u = draws.own("error")
    edge = 0.0
    for name in ("rate_limit", "server", "overloaded", "connection"):
        edge += getattr(spec, name)
        if u < edge:
            return name
    return None
