"""The LLM client: any OpenAI-compatible endpoint, or the embedded SmolLM2 served by a local llama.cpp server.

Typical use::

    async with open_chat_model(LLMSettings()) as model:
        meter = UsageMeter()
        job_model = MeteredModel(model, meter)
        completion = await job_model.complete([{"role": "user", "content": "Write fizzbuzz."}])
"""

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
