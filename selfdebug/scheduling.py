"""A batch's work on a few threads, the most useful work first (``Judge.evaluate_all`` keeps the pool busy with it)."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable

__all__ = ["WorkQueue"]

Priority = tuple[float, ...]


class WorkQueue:
    """Runs tasks on ``workers`` threads, the lowest priority first; a running task may add more, and so may a
    ``producer`` that ``run`` starts on a thread of its own (it takes no worker: tasks run while it adds them).

    ``run`` returns when no task is left or running and the producer is done. The first exception a task or the
    producer raises stops the rest (tasks already running finish; ``stopped`` tells a producer to end) and is
    raised again by ``run``.
    """

    def __init__(self, workers: int, *, name: str = "work") -> None:
        self.workers = max(1, workers)
        self.name = name
        self._heap: list[tuple[Priority, int, Callable[[], None]]] = []
        self._order = itertools.count()  # ties keep the order tasks were added in
        self._cond = threading.Condition()
        self._running = 0
        self._error: BaseException | None = None

    def add(self, priority: Priority, task: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._heap, (priority, next(self._order), task))
            self._cond.notify()

    @property
    def stopped(self) -> bool:
        """Whether a task or the producer failed, so that no more tasks will run."""
        return self._error is not None

    def run(self, producer: Callable[[], None] | None = None) -> None:
        threads = [threading.Thread(target=self._work, name=f"{self.name}-{i}", daemon=True)
                   for i in range(self.workers)]
        if producer is not None:
            with self._cond:
                self._running += 1  # counted as a running task: workers wait for what it may still add
            threads.append(threading.Thread(target=self._call, args=(producer,), name=f"{self.name}-producer",
                                            daemon=True))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._heap and self._running and self._error is None:
                    self._cond.wait()
                if self._error is not None or not self._heap:
                    self._cond.notify_all()
                    return
                _, _, task = heapq.heappop(self._heap)
                self._running += 1
            self._call(task)

    def _call(self, task: Callable[[], None]) -> None:
        """Run a task (or the producer) that is counted in ``_running``; keep the first error."""
        try:
            task()
        except BaseException as exc:
            with self._cond:
                self._error = self._error or exc
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()
