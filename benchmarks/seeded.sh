#!/usr/bin/env bash
# LDB's setting: repair gpt-3.5-turbo-0613's real HumanEval programs (121/164 correct) with the configured model
# (default: the embedded SmolLM2), with and without the guard. With many correct first programs, this is where
# self-debugging's "correct program repaired into a wrong one" shows, and where the guard has something to prevent.
# Usage: benchmarks/seeded.sh [N=40] [OUT=out/seeded]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-40}
OUT=${2:-out/seeded}
SEEDS=${SEEDS:-${SELFDEBUG_DATA_DIR:-/work/shared/data}/humaneval/seeds-gpt-3.5-turbo-0613.jsonl}
export SELFDEBUG_LLM_CACHE_DIR=${SELFDEBUG_LLM_CACHE_DIR:-$OUT/llm-cache}
run() { .venv/bin/selfdebug run --dataset humaneval --limit "$N" --output "$OUT" --seeds "$SEEDS" "$@"; }
run --strategy post_execution --feedback detail
run --strategy post_execution --feedback detail --guard
run --strategy post_execution --feedback label
run --strategy in_execution
run --strategy in_execution --guard
.venv/bin/selfdebug report "$OUT/humaneval"
