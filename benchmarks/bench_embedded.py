"""What the portable build of the embedded model costs: generated tokens per second of the portable llama.cpp build
(the one setup installs) against a native (-march=native) build of the same version, on this machine, same run.

The native build goes into a venv of its own under ~/.cache/selfdebug/bench (built once, cached under a key that
includes this processor's identity, so no other machine ever gets it). The two servers are measured in alternating
rounds, one at a time (2 cores: never both at once), on the same prompts at temperature 0; each round's figure is
generated tokens / wall seconds of its requests. The ratio is the median of the per-round ratios.

    python benchmarks/bench_embedded.py            # 5 rounds of 3 requests of up to 128 tokens
    python benchmarks/bench_embedded.py --smoke    # 1 round of 1 short request (CI)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from selfdebug.llm.embedded import EmbeddedServer
from selfdebug.llm.embedded.build import LEVELS, detect_level, ensure_build
from selfdebug.llm.embedded.verify import verify_completion

PROMPTS = [
    "Write a Python function that returns the n-th Fibonacci number.",
    "Write a Python function that checks whether a string is a palindrome.",
    "Write a Python function that merges two sorted lists.",
]


def native_python() -> str:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "selfdebug" / "bench" / "native-venv"
    python = cache / "bin" / "python"
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(cache)  # the server runs there; it imports nothing of ours
    ensure_build(LEVELS["native"], python=str(python), log=lambda message: print(f"[native] {message}", flush=True))
    return str(python)


def round_rate(python: str, prompts: list[str], max_tokens: int) -> float:
    with EmbeddedServer(python=python, context=2048) as server:
        verify_completion(server, max_tokens=4)  # warm: weights paged in, first-call costs paid
        tokens = seconds = 0.0
        for prompt in prompts:
            done = verify_completion(server, max_tokens=max_tokens, prompt=prompt)
            tokens += done.completion_tokens
            seconds += done.seconds
    return tokens / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="one round of one short request (CI)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    rounds, prompts, max_tokens = (1, PROMPTS[:1], 16) if args.smoke else (args.rounds, PROMPTS, args.max_tokens)

    portable_level = detect_level()
    portable = ensure_build(portable_level)  # what setup installed into this interpreter (checked, not rebuilt)
    native = native_python()
    print(f"portable: {portable_level.name} ({portable.report.strip()})")
    done = subprocess.run([native, "-c", "import llama_cpp; print(llama_cpp.llama_print_system_info().decode())"],
                          capture_output=True, text=True, check=True)
    print(f"native:   {done.stdout.strip()}")

    ratios, rates = [], {"portable": [], "native": []}
    for index in range(rounds):
        order = [("portable", sys.executable), ("native", native)]
        if index % 2:
            order.reverse()  # alternate who goes first, so drift on a shared machine falls on both
        measured = {name: round_rate(python, prompts, max_tokens) for name, python in order}
        for name, rate in measured.items():
            rates[name].append(rate)
        ratios.append(measured["portable"] / measured["native"])
        print(f"round {index + 1}: portable {measured['portable']:.1f} tok/s, native {measured['native']:.1f} tok/s,"
              f" ratio {ratios[-1]:.3f}", flush=True)
    print(f"portable {statistics.median(rates['portable']):.1f} tok/s  native {statistics.median(rates['native']):.1f}"
          f" tok/s  portable/native {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
