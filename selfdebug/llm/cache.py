"""An on-disk response cache, so that re-running a benchmark replays answers instead of re-querying.

One JSON file per answer, named by the sha256 of the request (model, messages, parameters), written atomically.
At temperature 0 identical requests share one answer. At temperature > 0 each repeat of a request within one
cache object is a fresh sample (the key counts occurrences), so sampling k programs still gives k answers, and a
re-run replays them in the same order.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from .models import Completion, Message

__all__ = ["CACHE_FORMAT", "ResponseCache"]

CACHE_FORMAT = 1  # part of every key: bump it when what we store changes


class ResponseCache:
    """Completions stored under ``directory/ab/abcdef....json``; a missing or unreadable entry is a miss."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def key(
        self,
        *,
        model: str,
        messages: Sequence[Message],
        temperature: float,
        max_tokens: int,
        stop: Sequence[str] | None,
    ) -> str:
        """The key of this request; at temperature > 0 it also counts how often this cache was asked for it."""
        request = {
            "format": CACHE_FORMAT,
            "model": model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "temperature": temperature,
            "max_tokens": max_tokens,
            "stop": list(stop) if stop else None,
        }
        base = _digest(request)
        if temperature == 0:
            return base
        with self._lock:
            occurrence = self._seen[base]
            self._seen[base] += 1
        return _digest({"request": base, "occurrence": occurrence})

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> Completion | None:
        try:
            stored = json.loads(self.path(key).read_text(encoding="utf-8"))
            return Completion.model_validate(stored["completion"])
        except (OSError, ValueError, KeyError, TypeError, ValidationError):
            return None

    def put(self, key: str, completion: Completion) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"key": key, "completion": completion.model_dump(mode="json")}, ensure_ascii=False)
        # Write a sibling temp file and rename it over: readers see the old entry or the whole new one, never half.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _digest(value: object) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
