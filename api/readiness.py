"""``/readyz``: can this service do its job now? Redis, the Docker engine, the sandbox image and the LLM
endpoint must answer; live workers are reported but do not make the API unready (jobs wait in the queue).
Each check is bounded by ``readiness_timeout``; results are reused for a couple of seconds."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import time
import urllib.request
from collections.abc import Awaitable, Callable

import docker
import docker.errors

from api.schemas import Readiness, ReadinessCheck
from api.services import Services
from sandbox import SandboxSettings
from selfdebug.llm import LLMSettings
from selfdebug.llm.embedded import find_weights

__all__ = ["REQUIRED", "ReadinessProbe"]

REQUIRED = ("redis", "docker", "sandbox_image", "llm")
CACHE_SECONDS = 2.0


class ReadinessProbe:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._cached: tuple[float, Readiness] | None = None
        self._lock = asyncio.Lock()

    async def check(self) -> Readiness:
        async with self._lock:
            if self._cached is not None and time.monotonic() - self._cached[0] < CACHE_SECONDS:
                return self._cached[1]
            checks: dict[str, Callable[[], Awaitable[str]]] = {
                "redis": self._redis, "docker": self._docker, "sandbox_image": self._image, "llm": self._llm,
                "workers": self._workers,
            }
            results = await asyncio.gather(*(self._bounded(check) for check in checks.values()))
            report = dict(zip(checks, results, strict=True))
            ready = all(report[name].ok for name in REQUIRED)
            readiness = Readiness(status="ready" if ready else "not_ready", checks=report)
            self._cached = (time.monotonic(), readiness)
            return readiness

    async def _bounded(self, check: Callable[[], Awaitable[str]]) -> ReadinessCheck:
        try:
            async with asyncio.timeout(self.services.settings.readiness_timeout):
                return ReadinessCheck(ok=True, detail=await check())
        except TimeoutError:
            return ReadinessCheck(ok=False, detail=f"no answer within {self.services.settings.readiness_timeout:g}s")
        except Exception as exc:
            return ReadinessCheck(ok=False, detail=f"{type(exc).__name__}: {exc}"[:500])

    async def _redis(self) -> str:
        await self.services.redis.ping()
        return "PONG"

    async def _docker(self) -> str:
        def version() -> str:
            client = docker.from_env(timeout=int(self.services.settings.readiness_timeout) + 1)
            try:
                return str(client.version().get("Version", "?"))
            finally:
                client.close()

        return await asyncio.to_thread(version)

    async def _image(self) -> str:
        settings = SandboxSettings()

        def find() -> str:
            client = docker.from_env(timeout=int(self.services.settings.readiness_timeout) + 1)
            try:
                if settings.image:
                    client.images.get(settings.image)
                    return settings.image
                images = client.images.list(filters={"label": f"{settings.label}=image"})
                if not images:
                    raise LookupError("no sandbox image; build it with python -m sandbox build")
                return next((tag for image in images for tag in image.tags), images[0].short_id)
            finally:
                client.close()

        return await asyncio.to_thread(find)

    async def _llm(self) -> str:
        settings = LLMSettings()
        if settings.base_url is None:
            weights = settings.embedded_model_path or find_weights(settings.embedded_models_dir)
            if weights is None or not weights.exists():
                raise LookupError("the embedded model's weights are missing (python -m selfdebug.llm.embedded fetch)")
            if importlib.util.find_spec("llama_cpp") is None:
                raise LookupError("the embedded model's server is not installed (python -m selfdebug.llm.embedded "
                                  "install)")
            dead = [f"{worker}: {state.get('last_crash') or 'not running'}"
                    for worker, state in await self._embedded_states() if not state.get("running")]
            if dead:
                raise LookupError("the embedded model server is dead on " + "; ".join(dead))
            return f"embedded model ({weights.name}); workers start it"
        url = settings.base_url.rstrip("/") + "/models"
        key = settings.api_key.get_secret_value() if settings.api_key else "none"

        def probe() -> str:
            request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
            with urllib.request.urlopen(request, timeout=self.services.settings.readiness_timeout) as reply:
                return f"{settings.base_url} answers {reply.status}"

        return await asyncio.to_thread(probe)

    async def _embedded_states(self) -> list[tuple[str, dict[str, object]]]:
        """Each live worker's report on its embedded model (workers that have not started one report none)."""
        states = []
        async for key in self.services.redis.scan_iter(match=self.services.store.keys.worker_pattern, count=100):
            raw = await self.services.redis.get(key)
            try:
                report = json.loads(raw) if raw else {}
            except ValueError:
                continue
            llm = report.get("llm") if isinstance(report, dict) else None
            if isinstance(llm, dict) and llm.get("embedded"):
                states.append((str(report.get("worker", key)), llm))
        return states

    async def _workers(self) -> str:
        count = 0
        async for _ in self.services.redis.scan_iter(match=self.services.store.keys.worker_pattern, count=100):
            count += 1
        return f"{count} live"
