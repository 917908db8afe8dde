"""The LLM client: any OpenAI-compatible endpoint, or the embedded SmolLM2 served by a local llama.cpp server.

Typical use::

    async with open_chat_model(LLMSettings()) as model:
        meter = UsageMeter()
        job_model = MeteredModel(model, meter)
        completion = await job_model.complete([{"role": "user", "content": "Write fizzbuzz."}])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from selfdebug.lazy import lazy_face

if TYPE_CHECKING:
    from .cache import ResponseCache
    from .client import OpenAIChatModel
    from .embedded import EMBEDDED_MODEL_NAME, EmbeddedModel, EmbeddedServer, ensure_weights
    from .errors import (
        EmbeddedBuildError,
        EmbeddedServerCrashed,
        EmbeddedServerError,
        LLMBadResponse,
        LLMCallError,
        LLMConfigError,
        LLMError,
        LLMRateLimited,
        LLMRequestRejected,
        LLMTimeout,
        LLMUnavailable,
    )
    from .factory import open_chat_model
    from .fake import ScriptedCall, ScriptedModel, ScriptExhausted
    from .models import ChatModel, Completion, Message, Usage
    from .settings import LLMSettings
    from .usage import MeteredModel, UsageMeter, UsageTotals

__all__ = [
    "EMBEDDED_MODEL_NAME",
    "ChatModel",
    "Completion",
    "EmbeddedBuildError",
    "EmbeddedModel",
    "EmbeddedServer",
    "EmbeddedServerCrashed",
    "EmbeddedServerError",
    "LLMBadResponse",
    "LLMCallError",
    "LLMConfigError",
    "LLMError",
    "LLMRateLimited",
    "LLMRequestRejected",
    "LLMSettings",
    "LLMTimeout",
    "LLMUnavailable",
    "Message",
    "MeteredModel",
    "OpenAIChatModel",
    "ResponseCache",
    "ScriptExhausted",
    "ScriptedCall",
    "ScriptedModel",
    "Usage",
    "UsageMeter",
    "UsageTotals",
    "ensure_weights",
    "open_chat_model",
]

# Where each public name lives (imported when first used: see selfdebug.lazy).
_HOMES = {
    "ResponseCache": "selfdebug.llm.cache",
    "OpenAIChatModel": "selfdebug.llm.client",
    "EMBEDDED_MODEL_NAME": "selfdebug.llm.embedded",
    "EmbeddedModel": "selfdebug.llm.embedded",
    "EmbeddedServer": "selfdebug.llm.embedded",
    "ensure_weights": "selfdebug.llm.embedded",
    "EmbeddedBuildError": "selfdebug.llm.errors",
    "EmbeddedServerCrashed": "selfdebug.llm.errors",
    "EmbeddedServerError": "selfdebug.llm.errors",
    "LLMBadResponse": "selfdebug.llm.errors",
    "LLMCallError": "selfdebug.llm.errors",
    "LLMConfigError": "selfdebug.llm.errors",
    "LLMError": "selfdebug.llm.errors",
    "LLMRateLimited": "selfdebug.llm.errors",
    "LLMRequestRejected": "selfdebug.llm.errors",
    "LLMTimeout": "selfdebug.llm.errors",
    "LLMUnavailable": "selfdebug.llm.errors",
    "open_chat_model": "selfdebug.llm.factory",
    "ScriptExhausted": "selfdebug.llm.fake",
    "ScriptedCall": "selfdebug.llm.fake",
    "ScriptedModel": "selfdebug.llm.fake",
    "ChatModel": "selfdebug.llm.models",
    "Completion": "selfdebug.llm.models",
    "Message": "selfdebug.llm.models",
    "Usage": "selfdebug.llm.models",
    "LLMSettings": "selfdebug.llm.settings",
    "MeteredModel": "selfdebug.llm.usage",
    "UsageMeter": "selfdebug.llm.usage",
    "UsageTotals": "selfdebug.llm.usage",
}

__getattr__, __dir__ = lazy_face(__name__, _HOMES, __all__)
