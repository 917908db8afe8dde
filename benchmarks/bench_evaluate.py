"""Batch evaluation against evalplus (issue 13): ``selfdebug evaluate`` (sandboxed) and evalplus 0.3.1's
``evalplus.evaluate --parallel 2`` (no sandbox) on the canonical solutions of HumanEval+ and MBPP+, same run.

selfdebug is timed as a user meets it: the whole command, from start to exit (interpreter, imports, dataset, the
container pool's start and removal). evalplus is timed two ways in one run: its whole command (what a user waits
for, and what the issue measured), which after the work also waits for its stall-watchdog thread to finish a
``time.sleep(20)`` (so the command takes at least about 20 s however small the work), and its ``evaluate()`` call
alone, without interpreter start-up, imports or that wait: the stricter comparison. Each round measures, per
dataset:

* cold: expected outputs not cached (evalplus: an empty ``XDG_CACHE_HOME``; selfdebug: an empty
  ``SELFDEBUG_CACHE_DIR``), so both compute the canonical solutions' outputs first;
* warm: the same command again with the cache the cold run left.

Who goes first alternates from round to round, so load from elsewhere on a shared machine falls on both alike; each
ratio (selfdebug / evalplus) is the median of the rounds' ratios. evalplus goes into a venv of its own, made once
under ``~/.cache/selfdebug/bench/evalplus-0.3.1`` (it is never a dependency of ours), and reads the dataset files from
the shared data folder through its override variables (``HUMANEVAL_OVERRIDE_PATH``, ``MBPP_OVERRIDE_PATH``), since
nothing can be downloaded. selfdebug must score every canonical solution (pass@1 1.0000) or the script fails.

    .venv/bin/python benchmarks/bench_evaluate.py [--rounds 3] [--datasets humanevalplus,mbppplus]
    .venv/bin/python benchmarks/bench_evaluate.py --smoke     # 3 problems a dataset, 1 round (CI)

The last line is ``humanevalplus cold 0.xx warm 0.xx  mbppplus cold 0.xx warm 0.xx (target <= 0.5)``, against
evalplus's whole command; the line before it has the same ratios against its ``evaluate()`` call alone. With
``--smoke`` (or ``--no-wait``) evalplus's process exits right after ``evaluate()``, so both lines are against that.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
EVALPLUS_VERSION = "0.3.1"
TARGET = 0.5
PARALLEL = 2  # evalplus's workers; selfdebug uses its pool (one container a core by default)
SMOKE_PROBLEMS = 3
SLOWEST_SHOWN = 5


@dataclass(frozen=True)
class Dataset:
    name: str  # selfdebug's name
    evalplus: str  # evalplus's --dataset
    relative: str  # the file in the data folder
    override: str  # evalplus's variable for that file


DATASETS = {
    "humanevalplus": Dataset("humanevalplus", "humaneval", "humanevalplus/HumanEvalPlus.jsonl.gz",
                             "HUMANEVAL_OVERRIDE_PATH"),
    "mbppplus": Dataset("mbppplus", "mbpp", "mbppplus/MbppPlus.jsonl.gz", "MBPP_OVERRIDE_PATH"),
}


# What ``evalplus.evaluate --dataset D --samples S --parallel N`` runs (fire's CLI calls this same function), with the
# call timed. The process then ends as the command does, after the watchdog thread (``stucking_checker``, which
# sleeps 20 s at a time) is done, unless told not to wait (os._exit).
EVALPLUS_TIMER = """
import json, os, sys, time
from evalplus.evaluate import evaluate
started = time.perf_counter()
evaluate(dataset=sys.argv[1], samples=sys.argv[2], parallel=int(sys.argv[3]))
print(json.dumps({"evaluate_seconds": time.perf_counter() - started}), flush=True)
if sys.argv[4] == "no-wait":
    os._exit(0)
"""


@dataclass
class Timing:
    seconds: float  # what the ratios use: selfdebug's whole command, evalplus's evaluate() call
    pass_at_1: str
    slowest: list[tuple[str, float]] = field(default_factory=list)
    command: float = 0.0  # the whole process, from start to exit


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "selfdebug" / "bench"


def evalplus_python() -> Path:
    """The venv with evalplus, made once and kept (a marker file says the install finished)."""
    home = cache_root() / f"evalplus-{EVALPLUS_VERSION}"
    python, marker = home / "bin" / "python", home / ".installed"
    if not marker.exists():
        print(f"installing evalplus {EVALPLUS_VERSION} into {home} (once) ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(home)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"evalplus=={EVALPLUS_VERSION}"], check=True)
        marker.write_text(EVALPLUS_VERSION)
    return python


def write_inputs(data: Path, dataset: Dataset, folder: Path, limit: int | None) -> tuple[Path, Path, int]:
    """The dataset file both tools read (the shared one, or its first ``limit`` problems) and the samples: every
    canonical solution as a whole ``solution`` (prompt + body), the form both tools take as it is."""
    source = data / dataset.relative
    with gzip.open(source, "rt") as handle:
        lines = [line for line in handle if line.strip()][:limit]
    problems = source
    if limit is not None:
        problems = folder / f"{dataset.name}-{limit}.jsonl.gz"
        with gzip.open(problems, "wt") as out:
            out.writelines(lines)
    samples = folder / f"{dataset.name}-samples.jsonl"
    with samples.open("w") as out:
        for line in lines:
            task = json.loads(line)
            out.write(json.dumps({"task_id": task["task_id"], "solution": task["prompt"] + task["canonical_solution"]})
                      + "\n")
    return problems, samples, len(lines)


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} ... failed ({done.returncode}):\n{done.stdout[-2000:]}\n"
                         f"{done.stderr[-3000:]}")
    return seconds, done.stdout


def run_evalplus(python: Path, dataset: Dataset, problems: Path, samples: Path, cache: Path, work: Path, *,
                 wait: bool) -> Timing:
    # A fresh folder per run: evalplus would otherwise load its previous results instead of evaluating.
    folder = Path(tempfile.mkdtemp(prefix="evalplus-", dir=work))
    copy = folder / "samples.jsonl"
    shutil.copy(samples, copy)
    env = {**os.environ, dataset.override: str(problems), "XDG_CACHE_HOME": str(cache)}
    argv = [str(python), "-c", EVALPLUS_TIMER, dataset.evalplus, str(copy), str(PARALLEL),
            "wait" if wait else "no-wait"]
    command, out = timed(argv, env, folder)
    seconds = float(json.loads(out.strip().splitlines()[-1])["evaluate_seconds"])
    scores = re.findall(r"pass@1:\s*([\d.]+)", out)
    return Timing(seconds, scores[-1] if scores else "?", command=command)  # the last score: base + extra tests


def run_selfdebug(dataset: Dataset, problems: Path, samples: Path, cache: Path, work: Path) -> Timing:
    results = Path(tempfile.mkdtemp(prefix="selfdebug-", dir=work)) / "results.jsonl"
    env = {**os.environ, "SELFDEBUG_CACHE_DIR": str(cache)}
    argv = [str(Path(sys.executable).parent / "selfdebug"), "evaluate", "--dataset", str(problems), "--samples",
            str(samples), "--output", str(results)]
    seconds, out = timed(argv, env, REPO)
    found = re.search(r"pass@1: ([\d.]+) \((\d+)/(\d+)\)", out)
    if found is None or found.group(2) != found.group(3):
        raise SystemExit(f"selfdebug did not pass every canonical solution of {dataset.name}: {out[-500:]}")
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    slowest = sorted(((row["task_id"], float(row["duration"])) for row in rows), key=lambda row: -row[1])
    return Timing(seconds, found.group(1), slowest[:SLOWEST_SHOWN], command=seconds)


def one_round(index: int, python: Path, dataset: Dataset, problems: Path, samples: Path, work: Path, *,
              wait: bool) -> dict[str, Timing]:
    caches = {tool: Path(tempfile.mkdtemp(prefix=f"cache-{tool}-", dir=work)) for tool in ("evalplus", "selfdebug")}
    runners = {
        "evalplus": lambda: run_evalplus(python, dataset, problems, samples, caches["evalplus"], work, wait=wait),
        "selfdebug": lambda: run_selfdebug(dataset, problems, samples, caches["selfdebug"], work),
    }
    order = ["evalplus", "selfdebug"] if index % 2 == 0 else ["selfdebug", "evalplus"]
    timings = {}
    for phase in ("cold", "warm"):
        for tool in order:
            timings[f"{tool} {phase}"] = runners[tool]()
    for cache in caches.values():
        shutil.rmtree(cache, ignore_errors=True)
    return timings


def describe(timing: Timing) -> str:
    slowest = ", ".join(f"{task} {seconds:.1f}s" for task, seconds in timing.slowest)
    command = f" (command {timing.command:.1f}s)" if timing.command and timing.command != timing.seconds else ""
    return (f"{timing.seconds:6.1f}s{command}  pass@1 {timing.pass_at_1}"
            + (f"  slowest: {slowest}" if slowest else ""))


def ratio_line(ratios: dict[str, dict[str, float]]) -> str:
    return "  ".join(f"{name} cold {r['cold']:.2f} warm {r['warm']:.2f}" for name, r in ratios.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3, help="cold+warm rounds per dataset (median of ratios)")
    parser.add_argument("--datasets", default="humanevalplus,mbppplus")
    parser.add_argument("--limit", type=int, default=None, help="only the first N problems of each dataset")
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_PROBLEMS} problems a dataset, one round")
    parser.add_argument("--no-wait", action="store_true",
                        help="end evalplus's process right after evaluate(), not after its watchdog's 20 s sleep")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("SELFDEBUG_DATA_DIR") or DEFAULT_DATA))
    args = parser.parse_args(argv)
    rounds, limit = (1, SMOKE_PROBLEMS) if args.smoke else (max(1, args.rounds), args.limit)
    names = [name.strip() for name in args.datasets.split(",") if name.strip()]
    python = evalplus_python()
    subprocess.run([sys.executable, "-m", "sandbox", "build"], check=True, cwd=REPO, capture_output=True)
    print(f"{os.cpu_count()} CPUs; evalplus {EVALPLUS_VERSION} --parallel {PARALLEL}; {rounds} round(s)", flush=True)
    wait = not (args.smoke or args.no_wait)
    ratios: dict[str, dict[str, float]] = {}
    command_ratios: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-evaluate-") as tmp:
        work = Path(tmp)
        for name in names:
            dataset = DATASETS[name]
            problems, samples, count = write_inputs(args.data_dir, dataset, work, limit)
            per_round: dict[str, list[float]] = {"cold": [], "warm": []}
            per_command: dict[str, list[float]] = {"cold": [], "warm": []}
            for index in range(rounds):
                timings = one_round(index, python, dataset, problems, samples, work, wait=wait)
                print(f"\n{name} ({count} problems), round {index + 1}:")
                for label, timing in timings.items():
                    print(f"  {label:15} {describe(timing)}")
                for phase in ("cold", "warm"):
                    ours, theirs = timings[f"selfdebug {phase}"], timings[f"evalplus {phase}"]
                    per_round[phase].append(ours.seconds / theirs.seconds)
                    per_command[phase].append(ours.seconds / theirs.command)
                print(f"  ratios against the command: cold {per_command['cold'][-1]:.2f} warm "
                      f"{per_command['warm'][-1]:.2f}; against evaluate(): cold {per_round['cold'][-1]:.2f} "
                      f"warm {per_round['warm'][-1]:.2f}", flush=True)
            ratios[name] = {phase: statistics.median(values) for phase, values in per_round.items()}
            command_ratios[name] = {phase: statistics.median(values) for phase, values in per_command.items()}
    print()
    print(f"against evalplus's evaluate() alone: {ratio_line(ratios)}")
    print(f"{ratio_line(command_ratios)} (target <= {TARGET})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
