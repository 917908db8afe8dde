"""The embedded default model: SmolLM2-135M-Instruct served by a local llama.cpp server on a free loopback port.

Command line (``python -m selfdebug.llm.embedded ...``): ``install`` (build llama-cpp-python for this processor's
CPU level, cached by what decides the binary), ``check`` (its instruction set, and a real completion), ``fetch``
(download the weights) and ``serve [--port N]`` (serve until interrupted). scripts/setup runs the first three.
"""

from .model import EmbeddedModel
from .server import EmbeddedServer
from .weights import EMBEDDED_MODEL_NAME, WEIGHTS_FILE, WEIGHTS_PACKAGE, ensure_weights, find_weights

__all__ = [
    "EMBEDDED_MODEL_NAME",
    "WEIGHTS_FILE",
    "WEIGHTS_PACKAGE",
    "EmbeddedModel",
    "EmbeddedServer",
    "ensure_weights",
    "find_weights",
]
