"""``ScriptedModel``: a fake ``ChatModel`` for unit tests, answering from a script and recording every call."""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Self, TypeAlias

from .models import Completion, Message, Usage
from .usage import UsageMeter

__all__ = ["Reply", "ScriptExhausted", "ScriptedCall", "ScriptedModel"]


@dataclass(frozen=True)
class ScriptedCall:
    """One call the fake received, exactly as passed (``None`` where the caller left a parameter out)."""

    messages: list[Message]
    temperature: float | None
    max_tokens: int | None
    stop: list[str] | None

    @property
    def prompt(self) -> str:
        """The last message's text: usually what a test wants to look at."""
        return self.messages[-1]["content"] if self.messages else ""


# A reply is a text, a whole Completion, an exception to raise, or a function of the call returning one of those.
Reply: TypeAlias = "str | Completion | BaseException | Callable[[ScriptedCall], str | Completion]"


class ScriptExhausted(RuntimeError):
    """The fake was called more often than the test scripted: a bug in the test or in the code under test.

    Deliberately not an ``LLMError``, so code that tolerates model failures cannot swallow it."""


class ScriptedModel:
    """Answers calls in order from enqueued replies; ``default``, if given, answers once the script is used up.

    Usage is counted in words (whitespace-separated), so token budgets can be tested deterministically.
    """

    def __init__(self, *replies: Reply, model: str = "scripted", default: Reply | None = None) -> None:
        self.model = model
        self.default = default
        self.history: list[ScriptedCall] = []
        self.usage = UsageMeter()
        self._script: collections.deque[Reply] = collections.deque(replies)

    def enqueue(self, *replies: Reply) -> Self:
        self._script.extend(replies)
        return self

    @property
    def remaining(self) -> int:
        return len(self._script)

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: Sequence[str] | None = None,
    ) -> Completion:
        call = ScriptedCall(
            messages=[{"role": m["role"], "content": m["content"]} for m in messages],
            temperature=temperature,
            max_tokens=max_tokens,
            stop=list(stop) if stop is not None else None,
        )
        self.history.append(call)
        reply = self._next(call)
        if callable(reply) and not isinstance(reply, BaseException):
            reply = reply(call)
        if isinstance(reply, BaseException):
            raise reply
        completion = reply if isinstance(reply, Completion) else self._completion(call, reply)
        self.usage.record(completion)
        return completion

    def _next(self, call: ScriptedCall) -> Reply:
        if self._script:
            return self._script.popleft()
        if self.default is not None:
            return self.default
        raise ScriptExhausted(
            f"ScriptedModel has no reply left for call {len(self.history)} "
            f"(last message: {call.prompt[:120]!r}); enqueue more replies or set default="
        )

    def _completion(self, call: ScriptedCall, text: str) -> Completion:
        prompt_words = sum(len(m["content"].split()) for m in call.messages)
        return Completion(
            text=text,
            usage=Usage(prompt_tokens=prompt_words, completion_tokens=len(text.split())),
            model=self.model,
            finish_reason="stop",
        )
