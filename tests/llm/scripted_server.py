"""The scripted OpenAI-compatible server, under the name the tests import it by; it lives in
``selfdebug.llm.scripted_server``, which the benchmarks share."""

from selfdebug.llm.scripted_server import RecordedRequest, ScriptedOpenAIServer, Step

__all__ = ["RecordedRequest", "ScriptedOpenAIServer", "Step"]
