"""``open_chat_model``: the one entry point the engine, the CLI and the workers use to get a model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .client import OpenAIChatModel
from .embedded.model import EmbeddedModel
from .models import ChatModel
from .settings import LLMSettings

__all__ = ["open_chat_model"]


@asynccontextmanager
async def open_chat_model(settings: LLMSettings | None = None) -> AsyncIterator[ChatModel]:
    """Yield a ready model: the configured endpoint, or with ``base_url=None`` the embedded server, started here,
    supervised (a crash is named as one, and the server restarted once), and stopped on exit (also on error or
    cancellation)."""
    settings = settings if settings is not None else LLMSettings()
    if not settings.embedded:
        async with OpenAIChatModel(settings) as model:
            yield model
        return
    async with EmbeddedModel.open(settings) as embedded:
        yield embedded
