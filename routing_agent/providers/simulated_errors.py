"""Provider errors the simulated model raises: LangChain's standard ``ModelError`` types.

LangChain integrations raise subclasses of ``langchain_core.exceptions.ModelError`` (rate limit, server,
timeout, connection, context overflow — each with ``is_retryable``) that also inherit from the provider
SDK's own exception, so code catching either keeps working. The simulator does the same with its own
``SimulatedProviderError`` in place of an SDK class: a graph that handles ``ModelRateLimitError`` or
``ModelError`` for OpenAI or Anthropic handles the simulator's errors unchanged, and every error carries
an HTTP-like ``status_code``, the provider and the model.
"""

from __future__ import annotations

__all__ = [
    "SimulatedConnectionError",
    "SimulatedContextOverflowError",
    "SimulatedOverloadedError",
    "SimulatedProviderError",
    "SimulatedRateLimitError",
    "SimulatedServerError",
    "SimulatedTimeoutError",
    "error_for",
]

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelConnectionError,
    ModelRateLimitError,
    ModelTimeoutError,
)


class SimulatedProviderError(Exception):
    """Mixin of every simulated provider error (the simulator's stand-in for an SDK's base error)."""

    status_code: int | None = None

    def __init__(self, message: str, *, model: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.model = model
        self.provider = "simulated"
        if status_code is not None:
            self.status_code = status_code


class SimulatedRateLimitError(ModelRateLimitError, SimulatedProviderError):
    """HTTP 429: too many requests (retryable)."""

    status_code = 429


class SimulatedServerError(ModelAPIError, SimulatedProviderError):
    """HTTP 500: the provider failed (retryable)."""

    status_code = 500


class SimulatedOverloadedError(ModelAPIError, SimulatedProviderError):
    """HTTP 529: the provider is overloaded (retryable)."""

    status_code = 529


class SimulatedConnectionError(ModelConnectionError, SimulatedProviderError):
    """The connection dropped before a response (retryable)."""


class SimulatedTimeoutError(ModelTimeoutError, SimulatedProviderError):
    """The call took longer than the model's ``timeout`` (retryable)."""


class SimulatedContextOverflowError(ContextOverflowError, SimulatedProviderError):
    """HTTP 400: the prompt is longer than the profile's context window (not retryable)."""

    status_code = 400


_BY_KIND: dict[str, tuple[type[SimulatedProviderError], str]] = {
    "rate_limit": (SimulatedRateLimitError, "Error code: 429 - rate limit reached for requests"),
    "server": (SimulatedServerError, "Error code: 500 - the server had an error processing the request"),
    "overloaded": (SimulatedOverloadedError, "Error code: 529 - overloaded"),
    "connection": (SimulatedConnectionError, "Connection error: the connection was reset by the peer"),
}


def error_for(kind: str, model: str) -> SimulatedProviderError:
    """The exception for a sampled error kind (see ``ErrorSpec``)."""
    cls, message = _BY_KIND[kind]
    return cls(f"{message} (simulated model '{model}')", model=model)
