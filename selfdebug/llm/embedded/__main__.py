"""``python -m selfdebug.llm.embedded install|check|fetch|serve``: build the server for this processor, prove it
answers a real completion, fetch the weights, or serve the model."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from collections.abc import Sequence

from ..errors import EmbeddedServerCrashed, EmbeddedServerError
from ..settings import LLMSettings
from .build import LEVELS, build_info, detect_level, ensure_build, forbidden_features
from .server import EmbeddedServer
from .verify import verify_completion
from .weights import ensure_weights

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m selfdebug.llm.embedded", description="The embedded SmolLM2 model.")
    sub = parser.add_subparsers(dest="command", required=True)
    install = sub.add_parser("install", help="build llama-cpp-python for this processor's CPU level (cached) and "
                             "install it into this Python")
    install.add_argument("--level", choices=sorted(LEVELS), default=None,
                         help="default: SELFDEBUG_LLM_EMBEDDED_CPU_LEVEL, else the best portable level this CPU runs")
    sub.add_parser("check", help="check the installed build's instruction set and ask the model for a real completion")
    sub.add_parser("fetch", help="download the embedded model's weights (if missing) and print their path")
    serve = sub.add_parser("serve", help="serve the embedded model on 127.0.0.1 until interrupted")
    serve.add_argument("--port", type=int, default=None, help="default: a free port")
    args = parser.parse_args(argv)
    settings = LLMSettings()
    try:
        if args.command == "fetch":
            print(settings.embedded_model_path or ensure_weights(settings.embedded_models_dir))
            return 0
        if args.command == "install":
            name = args.level or settings.embedded_cpu_level
            level = LEVELS[name] if name else detect_level()
            info = ensure_build(level, log=lambda message: print(message, file=sys.stderr, flush=True))
            print(f"llama-cpp-python {info.version} built for {level.name}: {info.report.strip()}")
            return 0
        if args.command == "check":
            return _check(settings)
        server = EmbeddedServer.from_settings(settings)
        server.requested_port = args.port
        with server:
            print(f"serving {server.model_name} at {server.base_url} (pid {server.pid}); Ctrl-C stops it", flush=True)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            with contextlib.suppress(KeyboardInterrupt):
                while server.running:
                    time.sleep(1.0)
            if not server.running:
                print(f"the server exited:\n{server.log_tail()}", file=sys.stderr)
                return 1
        return 0
    except EmbeddedServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _check(settings: LLMSettings) -> int:
    """Exit 0 only if the installed build stays within its CPU level and the model answers a real completion."""
    info = build_info()
    if info is None:
        print("error: llama-cpp-python does not import here; run python -m selfdebug.llm.embedded install",
              file=sys.stderr)
        return 1
    level = LEVELS[settings.embedded_cpu_level] if settings.embedded_cpu_level else detect_level()
    bad = forbidden_features(info, level)
    if bad:
        print(f"error: the installed llama.cpp build enables instructions beyond {level.name}: {', '.join(bad)}; "
              "rebuild it with python -m selfdebug.llm.embedded install", file=sys.stderr)
        return 1
    try:
        with EmbeddedServer.from_settings(settings) as server:
            done = verify_completion(server)
    except EmbeddedServerCrashed as exc:
        print(f"error: the embedded model crashed on a real completion: {exc}", file=sys.stderr)
        return 1
    print(f"the embedded model answers: {done.completion_tokens} tokens in {done.seconds:.2f} s "
          f"({done.tokens_per_second:.1f} tokens/s), build {level.name}: {done.text.strip()[:60]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
