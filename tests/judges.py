"""A hidden-test judge for engine tests: the problem's asserts run in-process (the sandbox is tested on its own)."""

from __future__ import annotations

from selfdebug.problems import Problem

__all__ = ["in_process_judge"]


async def in_process_judge(problem: Problem, program: str) -> tuple[bool, str]:
    namespace: dict[str, object] = {}
    try:
        exec(program, namespace)
        for test in problem.tests:
            exec(test, namespace)
    except Exception:
        return False, "failed"
    return True, "passed"
