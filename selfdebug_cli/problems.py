"""Reading the problem ``selfdebug solve`` is given: a JSON problem, a prompt file, stdin, or the text itself."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from selfdebug.datasets import parse_problems
from selfdebug.problems import Problem, ProblemKind

__all__ = ["guess_entry_point", "read_problem"]


def read_problem(source: str, entry_point: str | None, stdio: bool) -> Problem:
    """A problem from a JSON file (our generic JSONL record format), a prompt file, stdin, or the text itself.
    Raises ``SelfDebugError`` or ``ValueError`` saying what is wrong with it."""
    path = Path(source)
    if source == "-":
        text = sys.stdin.read()
    elif path.suffix in (".json", ".jsonl") and path.is_file():
        # One problem in the generic dataset format (a .json object or a one-line .jsonl).
        data = json.dumps(json.loads(path.read_text())).encode() if path.suffix == ".json" else path.read_bytes()
        return next(iter(parse_problems(data, str(path)).values()))
    elif path.is_file():
        text = path.read_text()
    else:
        text = source
    kind = ProblemKind.STDIO if stdio else ProblemKind.FUNCTION
    if kind is ProblemKind.FUNCTION and entry_point is None:
        entry_point = guess_entry_point(text)
    return Problem(task_id=path.stem if path.is_file() else "problem", prompt=text, kind=kind,
                   entry_point=entry_point)


def guess_entry_point(prompt: str) -> str:
    """The last function the prompt declares (HumanEval prompts end with the one to write)."""
    names: list[str] = re.findall(r"^def\s+([A-Za-z_]\w*)\s*\(", prompt, flags=re.MULTILINE)
    if not names:
        raise ValueError("no --entry-point given and the prompt declares no function; pass --entry-point or --stdio")
    return names[-1]
