#!/usr/bin/env bash
# Every strategy on the first N HumanEval problems with the configured model (default: the embedded SmolLM2),
# into one folder with one report. The response cache makes every strategy start from the same first program
# and the same self-tests (temperature 0), so the strategies differ only in how they repair.
# Usage: benchmarks/strategies.sh [N=40] [OUT=out/strategies]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-40}
OUT=${2:-out/strategies}
export SELFDEBUG_LLM_CACHE_DIR=${SELFDEBUG_LLM_CACHE_DIR:-$OUT/llm-cache}
# HumanEval's visible tests from the shared folder next to the checkout; without it, downloaded once.
export SELFDEBUG_DATA_DIR="${SELFDEBUG_DATA_DIR:-$(cd .. && pwd)/shared/data}"
run() { .venv/bin/selfdebug run --dataset humaneval --limit "$N" --output "$OUT" --concurrency 2 "$@"; }
run --strategy none
run --strategy post_execution --feedback label
run --strategy post_execution --feedback detail
run --strategy in_execution
run --strategy oracle --feedback detail
run --strategy post_execution --feedback detail --guard
run --strategy in_execution --guard
.venv/bin/selfdebug report "$OUT/humaneval"
