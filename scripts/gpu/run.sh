#!/usr/bin/env bash
# The GPU check, one command for a machine with an NVIDIA GPU, no network and no Chromium, with
# PyTorch, transformers and peft, where the repository comes with .gpu/ (npm run gpu:pack here:
# the bundles and dawn.node, since node_modules does not travel):
#
#   bash scripts/gpu/run.sh            # from the repository root; at most about 7 minutes
#
# 1. what the machine offers: the GPU, the Vulkan loader and ICDs (Dawn needs both), node;
# 2. .gpu/bench.mjs: WebGPU through Dawn: the adapter, 3 steps against the PyTorch golden steps,
#    dispatches per step, and training steps on the Pythia shapes, fused and stock;
# 3. scripts/gpu/torch_bench.py: the same steps in PyTorch CUDA eager float32;
# 4. the checks that wait for the real libraries: the exports loaded by transformers and peft
#    (.gpu/export_fixtures.mjs, then scripts/hf_export_check.py).
# Every figure is one JSON line on stdout, and the lot in $OUT/gpu.jsonl (OUT defaults to .gpu/out).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-.gpu/out}
mkdir -p "$OUT"
RESULTS="$OUT/gpu.jsonl"
: > "$RESULTS"
note() { printf '%s\n' "$1" | tee -a "$RESULTS"; }
section() { printf '== %s\n' "$1" >&2; }

section "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 2>/dev/null || echo "nvidia-smi: none" >&2
for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d; do ls -l "$d" 2>/dev/null >&2 || echo "$d: none" >&2; done
ldconfig -p | grep -i 'libvulkan\.so\.1' >&2 || echo "libvulkan.so.1: not found (Dawn's Vulkan backend cannot start)" >&2
command -v node >/dev/null || { note '{"figure":"error","message":"node is not installed here: the WebGPU half cannot run"}'; }
if [ ! -f .gpu/bench.mjs ] || [ ! -f .gpu/dawn.node ]; then
  note '{"figure":"error","message":".gpu/ is missing: run npm run gpu:pack before, and carry .gpu with the tree"}'
fi

if command -v node >/dev/null && [ -f .gpu/bench.mjs ]; then
  section "WebGPU through Dawn"
  NEOX_DAWN_NODE="$PWD/.gpu/dawn.node" GPU_BENCH_BUDGET_S=${GPU_BENCH_BUDGET_S:-200} timeout 260 node .gpu/bench.mjs | tee -a "$RESULTS"
  [ "${PIPESTATUS[0]}" = 0 ] || note '{"figure":"error","message":"the WebGPU bench stopped early (see its last line)"}'
fi

section "PyTorch CUDA eager float32"
timeout 120 python3 scripts/gpu/torch_bench.py | tee -a "$RESULTS"
[ "${PIPESTATUS[0]}" = 0 ] || note '{"figure":"error","message":"torch_bench.py failed or ran out of time (see stderr)"}'

section "exports through transformers and peft"
if command -v node >/dev/null && [ -f .gpu/export_fixtures.mjs ]; then
  EXPORTS=$(mktemp -d)
  # The folders are written before the PyTorch references are computed: the check runs on them
  # even if a reference failed (it compares with the committed fixtures/export/*.json).
  timeout 60 node .gpu/export_fixtures.mjs --keep "$EXPORTS" >&2 || note '{"figure":"error","message":"export_fixtures.mjs failed (see stderr)"}'
  if [ -d "$EXPORTS/full-f32" ]; then
    timeout 60 python3 scripts/hf_export_check.py "$EXPORTS" | tee -a "$RESULTS"
    [ "${PIPESTATUS[0]}" = 0 ] || note '{"figure":"error","message":"hf_export_check.py failed (see stderr)"}'
  else
    note '{"figure":"error","message":"no exported folders: hf_export_check.py not run"}'
  fi
fi
section "done: $RESULTS"
