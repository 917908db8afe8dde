"""A build of llama-cpp-python (the embedded model's server) that runs on any x86-64 machine of this kind.

Why this exists: llama-cpp-python ships only an sdist, and llama.cpp's default build compiles its CPU code with
``-march=native``. A build made on one processor then runs code paths (AVX-512, AMX) that fault on another: a
machine with AMX died with SIGSEGV in ``libggml-cpu.so`` on its first completion while CI elsewhere was green. And
pip's wheel cache is keyed by the sdist alone, so it hands one machine's native build to the next.

So the build here is made for a named **CPU level** (an explicit, portable instruction set, ``GGML_NATIVE=OFF``),
kept in a cache of our own keyed by everything that decides what the binary executes (version, level, the exact
CMake flags, the Python tag, and for ``native`` the processor itself), built with ``--no-cache-dir`` so pip's cache
is never consulted, and checked after installing: the build's own feature report must not enable any instruction
beyond its level.

Levels (x86-64 micro-architecture levels, as in the psABI):

* ``x86-64-v3``: SSE4.2, AVX, AVX2, FMA, F16C, BMI2; no AVX-512, no AVX-VNNI, no AMX. Chosen where the CPU has them.
* ``x86-64-v2``: SSE4.2 only. Chosen on an older CPU; also the fallback when v3 faults.
* ``native``: ``-march=native``, for measuring what the portable build costs; keyed by the processor's identity.
* ``generic``: a non-x86 machine: ggml's own portable defaults.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import EmbeddedBuildError

__all__ = [
    "LEVELS",
    "LLAMA_CPP_VERSION",
    "BuildInfo",
    "CpuLevel",
    "build_info",
    "cache_key",
    "default_wheels_dir",
    "detect_level",
    "ensure_build",
    "forbidden_features",
]

LLAMA_CPP_VERSION = "0.3.36"
DISTRIBUTION = "llama-cpp-python"
BUILD_TIMEOUT = 3600.0  # seconds; about 9 minutes on 2 cores, far longer on a loaded machine
PIP_TIMEOUT = 900.0
MARKER = "selfdebug-llama-build.json"  # in the environment's prefix: which cached build is installed there

# What each feature name in llama.cpp's system report means for portability. Anything named here that the level
# does not allow, reported as enabled, fails the check.
_AVX512 = ("AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16")
_AMX = ("AMX_INT8", "AMX_TILE", "AMX_BF16")
_V3 = ("AVX", "AVX2", "FMA", "F16C", "BMI2")
_BEYOND_V3 = (*_AVX512, "AVX_VNNI", *_AMX)


def _flags(on: tuple[str, ...], off: tuple[str, ...]) -> tuple[str, ...]:
    return ("-DGGML_NATIVE=OFF", *(f"-DGGML_{name}=ON" for name in on), *(f"-DGGML_{name}=OFF" for name in off))


@dataclass(frozen=True)
class CpuLevel:
    """A named instruction set: the CPU flags it needs, its CMake flags, and the features it must not enable."""

    name: str
    needs: frozenset[str]  # /proc/cpuinfo flags
    cmake_args: tuple[str, ...]
    forbidden: tuple[str, ...]  # llama.cpp system-report features that must be 0
    required: tuple[str, ...] = ()  # features that must be 1 (proves the report was read at all)


LEVELS: dict[str, CpuLevel] = {
    level.name: level
    for level in (
        CpuLevel(
            "x86-64-v3",
            frozenset({"sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"}),
            _flags(("SSE42", *_V3), _BEYOND_V3),
            _BEYOND_V3,
            ("AVX2", "FMA"),
        ),
        CpuLevel("x86-64-v2", frozenset({"sse4_2"}), _flags(("SSE42",), (*_V3, *_BEYOND_V3)), (*_V3, *_BEYOND_V3)),
        CpuLevel("native", frozenset(), ("-DGGML_NATIVE=ON",), ()),
        CpuLevel("generic", frozenset(), ("-DGGML_NATIVE=OFF",), ()),
    )
}


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The processor's flags from /proc/cpuinfo (empty where there is none)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return frozenset()
    match = re.search(r"^flags\s*:(.*)$", cpuinfo, re.MULTILINE)
    return frozenset(match.group(1).split()) if match else frozenset()


def detect_level(flags: frozenset[str] | None = None, machine: str | None = None) -> CpuLevel:
    """The best portable level this processor runs (never ``native``: that is only ever asked for)."""
    machine = machine or platform.machine()
    if machine not in ("x86_64", "AMD64"):
        return LEVELS["generic"]
    flags = cpu_flags() if flags is None else flags
    for name in ("x86-64-v3", "x86-64-v2"):
        if LEVELS[name].needs <= flags:
            return LEVELS[name]
    raise EmbeddedBuildError(
        "this x86-64 processor lacks SSE4.2, which every llama.cpp build here needs; "
        "configure another endpoint with SELFDEBUG_LLM_BASE_URL instead of the embedded model"
    )


def _processor_identity() -> str:
    """What makes a native build specific: the model name and the flags (a native build is only reused there)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    model = re.search(r"^model name\s*:(.*)$", text, re.MULTILINE)
    return f"{model.group(1).strip() if model else platform.processor()}|{' '.join(sorted(cpu_flags(text)))}"


def cache_key(level: CpuLevel, python_tag: str | None = None) -> str:
    """A folder name saying exactly which build it holds; a different flag or processor gives another key."""
    python_tag = python_tag or f"cp{sys.version_info.major}{sys.version_info.minor}"
    parts = [DISTRIBUTION, LLAMA_CPP_VERSION, level.name, " ".join(level.cmake_args), python_tag,
             sysconfig.get_platform()]
    if level.name == "native":
        parts.append(_processor_identity())
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    return f"{DISTRIBUTION}-{LLAMA_CPP_VERSION}-{level.name}-{python_tag}-{digest}"


def default_wheels_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "selfdebug" / "wheels"


# ---------------------------------------------------------------------------------------------- what is installed


@dataclass(frozen=True)
class BuildInfo:
    """What the installed llama-cpp-python says of itself: its version and its build's enabled features."""

    version: str
    features: dict[str, bool]
    report: str


_PROBE = (
    "import json, llama_cpp; "
    "print(json.dumps({'version': llama_cpp.__version__, 'report': llama_cpp.llama_print_system_info().decode()}))"
)


def build_info(python: str = sys.executable) -> BuildInfo | None:
    """Ask ``python``'s llama_cpp for its version and features (in a child: loading it must not crash us)."""
    try:
        done = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    try:
        data = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return BuildInfo(version=data["version"], features=parse_features(data["report"]), report=data["report"])


def parse_features(report: str) -> dict[str, bool]:
    """``"CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 0 | ..."`` -> ``{"SSE3": True, "AVX2": True, "AVX512": False}``."""
    return {name: value == "1" for name, value in re.findall(r"([A-Z][A-Z0-9_]*) = ([01])\b", report)}


def forbidden_features(info: BuildInfo, level: CpuLevel) -> list[str]:
    """Features the build enables that its level forbids, plus required ones it lacks (shown as ``-NAME``)."""
    enabled = sorted(name for name in level.forbidden if info.features.get(name))
    missing = [f"-{name}" for name in level.required if not info.features.get(name)]
    return enabled + missing


# ---------------------------------------------------------------------------------------------- build and install


def ensure_build(level: CpuLevel | None = None, *, python: str = sys.executable, wheels_dir: Path | None = None,
                 log: Callable[[str], None] | None = None) -> BuildInfo:
    """Make sure ``python`` has llama-cpp-python built for ``level`` (detected if None), building it if no cached
    wheel exists, and return what the installed build reports. Raises ``EmbeddedBuildError`` naming what failed."""
    level = level or detect_level()
    key = cache_key(level, _python_tag(python))
    prefix = Path(_prefix(python))
    marker = prefix / MARKER
    info = build_info(python)
    if info is not None and _marker_key(marker) == key and info.version == LLAMA_CPP_VERSION:
        _check(info, level)
        return info
    folder = (wheels_dir or default_wheels_dir()) / key
    wheel = _cached_wheel(folder) or _build_wheel(level, folder, python, log)
    _say(log, f"installing {wheel.name} (level {level.name}) into {prefix}")
    _pip(python, "install", "--no-cache-dir", "--force-reinstall", "--no-deps", str(wheel))
    _pip(python, "install", "--no-cache-dir", f"{wheel}[server]")
    info = build_info(python)
    if info is None:
        raise EmbeddedBuildError(f"llama_cpp does not import after installing {wheel}; remove {folder} and retry")
    _check(info, level)
    marker.write_text(json.dumps({"key": key, "level": level.name, "wheel": str(wheel)}) + "\n", encoding="utf-8")
    return info


def _check(info: BuildInfo, level: CpuLevel) -> None:
    bad = forbidden_features(info, level)
    if bad:
        raise EmbeddedBuildError(
            f"the installed llama.cpp build does not match level {level.name}: {', '.join(bad)} "
            f"(its report: {info.report.strip()})"
        )


def _cached_wheel(folder: Path) -> Path | None:
    wheels = sorted(folder.glob("llama_cpp_python-*.whl"))
    return wheels[0] if wheels else None


def _build_wheel(level: CpuLevel, folder: Path, python: str, log: Callable[[str], None] | None) -> Path:
    _say(log, f"compiling llama-cpp-python {LLAMA_CPP_VERSION} for {level.name} (about 9 minutes on 2 cores)")
    env = {k: v for k, v in os.environ.items() if k not in ("CFLAGS", "CXXFLAGS")}  # nothing of ours adds -march
    env.update(CMAKE_ARGS=" ".join(level.cmake_args), FORCE_CMAKE="1")
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build-", dir=folder.parent) as tmp:
        # --no-cache-dir: never take a wheel pip cached from another build (its cache key is the sdist alone).
        command = [python, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "--no-binary", DISTRIBUTION,
                   "--disable-pip-version-check", "--wheel-dir", tmp, f"{DISTRIBUTION}=={LLAMA_CPP_VERSION}"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=BUILD_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as exc:
            raise EmbeddedBuildError(f"compiling {DISTRIBUTION} took over {BUILD_TIMEOUT:.0f} s") from exc
        built = sorted(Path(tmp).glob("llama_cpp_python-*.whl"))
        if done.returncode != 0 or not built:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
            raise EmbeddedBuildError(
                f"compiling {DISTRIBUTION} {LLAMA_CPP_VERSION} failed (exit {done.returncode}); it needs a C++ "
                f"compiler and cmake (apt-get install build-essential cmake)\n{tail}"
            )
        staged = Path(tmp) / "done"
        staged.mkdir()
        shutil.move(str(built[0]), staged / built[0].name)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(staged, folder)  # atomic: a half-built folder is never taken for a build
    wheel = _cached_wheel(folder)
    assert wheel is not None
    return wheel


def _pip(python: str, *args: str) -> None:
    command = [python, "-m", "pip", *args, "--disable-pip-version-check", "--quiet"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise EmbeddedBuildError(f"pip {' '.join(args)} took over {PIP_TIMEOUT:.0f} s") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise EmbeddedBuildError(f"pip {' '.join(args)} failed (exit {done.returncode})\n{tail}")


def _python_tag(python: str) -> str:
    if python == sys.executable:
        return f"cp{sys.version_info.major}{sys.version_info.minor}"
    done = subprocess.run([python, "-c", "import sys; print(f'cp{sys.version_info[0]}{sys.version_info[1]}')"],
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def _prefix(python: str) -> str:
    if python == sys.executable:
        return sys.prefix
    done = subprocess.run([python, "-c", "import sys; print(sys.prefix)"],
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def _marker_key(marker: Path) -> str | None:
    try:
        key = json.loads(marker.read_text(encoding="utf-8")).get("key")
    except (OSError, ValueError, AttributeError):
        return None
    return key if isinstance(key, str) else None


def _say(log: Callable[[str], None] | None, message: str) -> None:
    if log is not None:
        log(message)
