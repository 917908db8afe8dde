"""The embedded server's portable build: which CPU level a processor gets, what keys its cached wheel, and the
check that the installed llama.cpp enables nothing beyond that level (on the real installed build, too)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from selfdebug.llm import EmbeddedBuildError
from selfdebug.llm.embedded import build
from selfdebug.llm.embedded.build import (
    LEVELS,
    LLAMA_CPP_VERSION,
    BuildInfo,
    build_info,
    cache_key,
    cpu_flags,
    detect_level,
    forbidden_features,
    parse_features,
)

ROOT = Path(__file__).resolve().parents[2]

# The flags of the machine whose native build faulted (an Intel Xeon with AVX-512 and AMX), cut to what matters.
XEON_AMX = frozenset(["sse4_2", "avx", "avx2", "fma", "f16c", "bmi2", "avx512f", "avx512bw", "avx512_vnni",
                      "avx_vnni", "amx_tile", "amx_int8"])
OLD_CPU = frozenset(["sse4_1", "sse4_2", "popcnt"])

# llama.cpp's own report (it lists the enabled features) of a native build on that machine, and of a portable one.
NATIVE_REPORT = ("CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX_VNNI = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | "
                 "AVX512 = 1 | AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | AMX_INT8 = 1 | LLAMAFILE = 1 | "
                 "OPENMP = 1 | REPACK = 1 | ")
PORTABLE_REPORT = ("CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | LLAMAFILE = 1 | "
                   "OPENMP = 1 | REPACK = 1 | ")


def test_a_processor_gets_the_best_portable_level_it_runs_never_native() -> None:
    assert detect_level(XEON_AMX, "x86_64").name == "x86-64-v3"  # AMX and AVX-512 are never used
    assert detect_level(OLD_CPU, "x86_64").name == "x86-64-v2"
    assert detect_level(frozenset(), "aarch64").name == "generic"
    with pytest.raises(EmbeddedBuildError, match=r"SSE4\.2"):
        detect_level(frozenset({"sse2"}), "x86_64")


def test_cpu_flags_are_read_from_cpuinfo() -> None:
    text = "processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse4_2 avx2 amx_tile\n\nprocessor\t: 1\n"
    assert cpu_flags(text) == {"fpu", "sse4_2", "avx2", "amx_tile"}
    assert cpu_flags("no flags here") == frozenset()


def test_portable_levels_turn_native_off_and_name_every_wider_instruction_set() -> None:
    v3, v2 = LEVELS["x86-64-v3"], LEVELS["x86-64-v2"]
    for level in (v3, v2):
        assert "-DGGML_NATIVE=OFF" in level.cmake_args
        for name in ("AVX512", "AVX512_VNNI", "AVX_VNNI", "AMX_INT8", "AMX_TILE", "AMX_BF16"):
            assert f"-DGGML_{name}=OFF" in level.cmake_args and name in level.forbidden
    assert "-DGGML_AVX2=ON" in v3.cmake_args and "-DGGML_AVX2=OFF" in v2.cmake_args


def test_the_cache_key_changes_with_anything_that_changes_the_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    v3 = LEVELS["x86-64-v3"]
    keys = {cache_key(v3, "cp311"), cache_key(LEVELS["x86-64-v2"], "cp311"), cache_key(v3, "cp312")}
    assert len(keys) == 3 and all(LLAMA_CPP_VERSION in key for key in keys)
    assert cache_key(v3, "cp311") == cache_key(v3, "cp311")  # stable, so the cache is found again
    # A native build is keyed by the processor: another CPU never gets this one's build.
    monkeypatch.setattr(build, "_processor_identity", lambda: "Intel Xeon|amx_tile avx512f")
    xeon = cache_key(LEVELS["native"], "cp311")
    monkeypatch.setattr(build, "_processor_identity", lambda: "AMD EPYC|avx2 avx512f")
    assert cache_key(LEVELS["native"], "cp311") != xeon
    # A portable key does not depend on the processor at all.
    assert cache_key(v3, "cp311") == next(key for key in keys if "x86-64-v3-cp311" in key)


def test_the_feature_check_refuses_a_native_build_and_accepts_a_portable_one() -> None:
    native = BuildInfo(LLAMA_CPP_VERSION, parse_features(NATIVE_REPORT), NATIVE_REPORT)
    portable = BuildInfo(LLAMA_CPP_VERSION, parse_features(PORTABLE_REPORT), PORTABLE_REPORT)
    assert parse_features(PORTABLE_REPORT)["AVX2"] is True and parse_features(NATIVE_REPORT)["AMX_INT8"] is True
    assert forbidden_features(native, LEVELS["x86-64-v3"]) == sorted(
        ["AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16", "AVX_VNNI", "AMX_INT8"]
    )
    assert forbidden_features(portable, LEVELS["x86-64-v3"]) == []
    assert set(forbidden_features(portable, LEVELS["x86-64-v2"])) == {"AVX", "AVX2", "F16C", "FMA", "BMI2"}
    # A report that could not be read does not pass as portable.
    empty = BuildInfo(LLAMA_CPP_VERSION, parse_features(""), "")
    assert forbidden_features(empty, LEVELS["x86-64-v3"]) == ["-AVX2", "-FMA"]


def test_the_installed_build_enables_nothing_beyond_its_portable_level() -> None:
    info = build_info(sys.executable)
    assert info is not None, "llama-cpp-python does not import: python -m selfdebug.llm.embedded install"
    assert info.version == LLAMA_CPP_VERSION
    level = detect_level()
    assert level.name != "native"
    assert forbidden_features(info, level) == [], info.report
    assert not any(info.features.get(name) for name in ("AVX512", "AMX_INT8", "AVX_VNNI")), info.report
    # It is the build our installer made and recorded, not one pip took from its cache.
    marker = Path(sys.prefix) / build.MARKER
    assert marker.is_file() and cache_key(level) in marker.read_text()


def test_pip_is_never_asked_to_build_llama_cpp() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extras = pyproject["project"]["optional-dependencies"]
    # pip must never build llama-cpp-python for us: it would compile natively and cache that for the next machine.
    assert not any("llama" in requirement for group in extras.values() for requirement in group)
    assert "llama" not in " ".join(pyproject["project"]["dependencies"])
