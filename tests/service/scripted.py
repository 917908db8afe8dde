"""The instant scripted model, under the name the service's tests import it by; it lives in
``selfdebug.llm.instant``, which the benchmarks share."""

from selfdebug.llm.instant import PROGRAMS, problem, respond, scripted_model_server, stdio_problem

__all__ = ["PROGRAMS", "problem", "respond", "scripted_model_server", "stdio_problem"]
