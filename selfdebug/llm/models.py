"""The chat-model interface every implementation shares: messages in, one ``Completion`` out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypedDict, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ChatModel", "Completion", "Message", "Usage"]


class Message(TypedDict):
    """One chat message, as the OpenAI API takes it (``role`` is system, user or assistant)."""

    role: str
    content: str


class Usage(BaseModel):
    """Tokens one call consumed, as the endpoint reported them (0 when it reported none)."""

    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Completion(BaseModel):
    """A model's answer to one request.

    ``latency`` is the wall time the caller waited in seconds (queueing and retries included; near zero when
    ``cached``). ``finish_reason`` is the endpoint's, e.g. ``"length"`` when ``max_tokens`` cut the text.
    """

    model_config = ConfigDict(frozen=True)

    text: str
    usage: Usage = Field(default_factory=Usage)
    model: str
    latency: float = Field(default=0.0, ge=0.0)
    cached: bool = False
    finish_reason: str | None = None
    attempts: int = Field(default=1, ge=0)


@runtime_checkable
class ChatModel(Protocol):
    """Anything that completes a chat: the OpenAI-compatible client, the scripted fake, a metering wrapper."""

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: Sequence[str] | None = None,
    ) -> Completion:
        """Answer ``messages``; ``None`` parameters take the model's configured defaults."""
        ...
