"""How tests were judged: on the host (the program's outputs compared outside the sandbox, which the program cannot
fool) or in process (the test ran in the program's interpreter), counted in tests and in the asserts they hold."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from pydantic import BaseModel

__all__ = ["JudgedCounts"]


class _Judged(Protocol):
    @property
    def judged(self) -> str | None: ...

    @property
    def asserts(self) -> int: ...


class JudgedCounts(BaseModel):
    """Tests and asserts judged each way. Tests that are neither (stdio cases, evalplus inputs) are not counted."""

    host_tests: int = 0
    in_process_tests: int = 0
    host_asserts: int = 0
    in_process_asserts: int = 0

    @classmethod
    def of(cls, tests: Iterable[_Judged]) -> JudgedCounts:
        counts = cls()
        for test in tests:
            if test.judged == "host":
                counts.host_tests += 1
                counts.host_asserts += test.asserts
            elif test.judged == "in_process":
                counts.in_process_tests += 1
                counts.in_process_asserts += test.asserts
        return counts

    def __add__(self, other: JudgedCounts) -> JudgedCounts:
        return JudgedCounts(host_tests=self.host_tests + other.host_tests,
                            in_process_tests=self.in_process_tests + other.in_process_tests,
                            host_asserts=self.host_asserts + other.host_asserts,
                            in_process_asserts=self.in_process_asserts + other.in_process_asserts)

    @property
    def tests(self) -> int:
        return self.host_tests + self.in_process_tests

    @property
    def host_share(self) -> float | None:
        """The share of asserts judged on the host; None when there were none."""
        total = self.host_asserts + self.in_process_asserts
        return self.host_asserts / total if total else None

    def describe(self) -> str:
        """One line: "1103 asserts in 157 tests on the host, 30 asserts in 7 tests in process (97.4% on the host)"."""
        share = self.host_share
        return (f"{self.host_asserts} asserts in {self.host_tests} tests on the host, {self.in_process_asserts} "
                f"asserts in {self.in_process_tests} tests in process"
                + ("" if share is None else f" ({100 * share:.1f}% on the host)"))
