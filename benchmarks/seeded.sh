#!/usr/bin/env bash
# LDB's setting: repair gpt-3.5-turbo-0613's real HumanEval programs (121/164 correct) with the configured model
# (default: the embedded SmolLM2), with and without the guard. With many correct first programs, this is where
# self-debugging's "correct program repaired into a wrong one" shows, and where the guard has something to prevent.
# Usage: benchmarks/seeded.sh [N=40] [OUT=out/seeded]; SEEDS=path, SELFDEBUG_DATA_DIR=folder (default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-40}
OUT=${2:-out/seeded}
# The datasets and the seeds from the shared folder next to the checkout; a dataset it lacks is downloaded once.
export SELFDEBUG_DATA_DIR="${SELFDEBUG_DATA_DIR:-$(cd .. && pwd)/shared/data}"
SEEDS=${SEEDS:-$SELFDEBUG_DATA_DIR/humaneval/seeds-gpt-3.5-turbo-0613.jsonl}
if [ ! -f "$SEEDS" ]; then
  LDB=https://raw.githubusercontent.com/FloridSleeves/LLMDebugger/49ac191f181d47911cf38e5b9944fbbe6d4a6e60
  echo "error: no seeds file at $SEEDS; download $LDB/input_data/humaneval/seed/gpt-3.5-turbo-0613/seed.jsonl" \
    "(sha256 cf612616f10ee5527865918efb851d1565cef22d7be7e44bf473325c93bdd2ca) and set SEEDS to its path" >&2
  exit 2
fi
export SELFDEBUG_LLM_CACHE_DIR=${SELFDEBUG_LLM_CACHE_DIR:-$OUT/llm-cache}
run() { .venv/bin/selfdebug run --dataset humaneval --limit "$N" --output "$OUT" --seeds "$SEEDS" "$@"; }
run --strategy post_execution --feedback detail
run --strategy post_execution --feedback detail --guard
run --strategy post_execution --feedback label
run --strategy in_execution
run --strategy in_execution --guard
.venv/bin/selfdebug report "$OUT/humaneval"
