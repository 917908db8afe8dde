"""``open_chat_model``: the one entry point the engine, the CLI and the workers use to get a model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .client import OpenAIChatModel
from .embedded import EmbeddedServer
from .settings import LLMSettings

__all__ = ["open_chat_model"]


@asynccontextmanager
async def open_chat_model(settings: LLMSettings | None = None) -> AsyncIterator[OpenAIChatModel]:
    """Yield a ready model: the configured endpoint, or with ``base_url=None`` the embedded server, started here
    and stopped on exit (also on error or cancellation)."""
    settings = settings if settings is not None else LLMSettings()
    if not settings.embedded:
        async with OpenAIChatModel(settings) as model:
            yield model
        return
    async with EmbeddedServer.from_settings(settings) as server:
        # llama.cpp's server answers one request at a time: queue here, so each request's timeout measures its own
        # generation and not the wait behind the others.
        local = settings.model_copy(update={"base_url": server.base_url, "model": server.model_name, "concurrency": 1})
        async with OpenAIChatModel(local) as model:
            yield model
