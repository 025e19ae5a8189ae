#!/usr/bin/env bash
# One GPU check of uqa, under 8 minutes on one GPU (issue 18): the tiny preset end to end
# on CUDA (bf16: autocast in pre-training, the frozen LLM cast to bf16), one alignment
# step under `torchrun --nproc_per_node 1` (nccl on CUDA), and answering throughput on
# the default preset's questions. Writes one JSON of figures to $OUT/gpu_check.json (or
# ./gpu_check.json).
#
# Uses the python3 the machine has (PyTorch with CUDA preinstalled on a lent device
# machine) and installs uqa's five packages from this checkout without their
# dependencies; a folder of wheels given as WHEELS=DIR is installed first (the device
# machine reaches no registry). Without a GPU it runs the same steps on the CPU
# (--cpu, or when torch sees no CUDA), timing fp32 answering on the tiny run's questions,
# so the script is tested everywhere (tests/cli/test_gpu_check.py).
#
#   bash bench/gpu_check.sh            # on the device machine
#   bash bench/gpu_check.sh --cpu      # here: the CPU fallback, tiny sizes
#   TINY_RUN=runs/tiny bash bench/gpu_check.sh --cpu   # resuming a finished tiny run
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT_DIR=${OUT:-.}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export UQA_PROGRESS=0 UQA_CACHE_DIR=${UQA_CACHE_DIR:-$WORK/cache} PYTHONUNBUFFERED=1

if [[ -n "${WHEELS:-}" ]]; then
  $PY -m pip install -q --no-index --no-deps --target "$WORK/site" "$WHEELS"/*.whl
  export PYTHONPATH="$WORK/site${PYTHONPATH:+:$PYTHONPATH}"
fi
if ! $PY -c "import uqa_cli" 2>/dev/null; then
  $PY -m pip install -q --no-deps --no-build-isolation --target "$WORK/uqa" \
    packages/uqa-data packages/uqa-encoders packages/uqa-align packages/uqa-eval packages/uqa-cli \
    || $PY -m pip install -q --no-deps --target "$WORK/uqa" \
      packages/uqa-data packages/uqa-encoders packages/uqa-align packages/uqa-eval packages/uqa-cli
  export PYTHONPATH="$WORK/uqa${PYTHONPATH:+:$PYTHONPATH}"
fi

DEVICE=$($PY -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')")
# Without a GPU the run is told nothing: the presets' own settings (device auto, precision
# auto: bf16 where the CPU computes it natively). On CUDA it is told bf16; --cpu beside a
# GPU forces fp32.
SETS=()
if [[ $DEVICE == cuda && "${1:-}" == "--cpu" ]]; then
  DEVICE=cpu
  SETS=(--set pretrain.device=cpu --set align.precision=fp32 --set eval.precision=fp32)
elif [[ $DEVICE == cuda ]]; then
  SETS=(--set pretrain.device=cuda --set pretrain.precision=bf16 --set align.precision=bf16
        --set eval.precision=bf16)
fi
echo "gpu_check: device $DEVICE, python $($PY -V 2>&1)"

# TINY_RUN=DIR resumes a copy of that finished tiny run (with its seed) instead of starting
# afresh: the same command, but only stages whose settings differ run again. The tests
# pass the run they already made, so the suite pays for one tiny run, not two.
RUN="$WORK/tiny"
SEED=0
if [[ -n "${TINY_RUN:-}" ]]; then
  cp -r "$TINY_RUN" "$RUN"
  SEED=$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["seed"])' "$RUN/run.json")
fi
start=$(date +%s)
$PY -m uqa_cli.main run --preset tiny --out "$RUN" --seed "$SEED" --baselines none \
  ${SETS[@]+"${SETS[@]}"} > "$WORK/tiny.log" 2>&1 \
  || { tail -n 40 "$WORK/tiny.log" >&2; echo "gpu_check: the tiny run failed" >&2; exit 1; }
tiny_s=$(( $(date +%s) - start ))

# one alignment step under torchrun (nccl on CUDA, gloo on the CPU)
start=$(date +%s)
$PY -m torch.distributed.run --nproc_per_node 1 -m uqa_cli.main align --out "$RUN" \
  --preset tiny --steps 1 --adapter-dir "$WORK/adapter-torchrun" > "$WORK/torchrun.log" 2>&1 \
  || { tail -n 40 "$WORK/torchrun.log" >&2; echo "gpu_check: the torchrun step failed" >&2; exit 1; }
torchrun_s=$(( $(date +%s) - start ))

# answering throughput: the default preset's questions (the CPU fallback: 8 of the tiny run's)
LIMIT=$( [[ $DEVICE == cuda ]] && echo 700 || echo 8 )
$PY - "$RUN" "$WORK" "$DEVICE" "$LIMIT" "$tiny_s" "$torchrun_s" "$OUT_DIR/gpu_check.json" <<'EOF'
import json, os, sys, time
from pathlib import Path
import torch
from uqa_data.prepare import PrepareConfig, prepare
from uqa_data.questions import QuestionConfig, generate
from uqa_data.synth import synthesize
from uqa_eval.evaluate import EvalConfig, evaluate

run, work, device, limit = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
d = run  # the CPU fallback answers the tiny run's own questions
if device == "cuda":
    d = work / "default"
    synthesize(d, preset="default", seed=0)
    prepare(d / "raw", d / "data", PrepareConfig.from_preset("default"))
    generate(d / "data", d / "questions", QuestionConfig.from_preset("default", align_per_task=0))
from uqa_align.llm import load_llm
llm = load_llm("smollm2", device=device)
out = {"device": device, "torch": torch.__version__,
       "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
       "tiny_run_s": float(sys.argv[5]), "torchrun_align_step_s": float(sys.argv[6]),
       "tiny_run_resumed_from": os.environ.get("TINY_RUN") or None,
       "tiny_run_stages_run": [line.split()[1]  # the stages it ran: "> NAME ..." lines
                               for line in (work / "tiny.log").read_text().splitlines()
                               if line.startswith("> ")]}
for precision in ("fp32", "bf16") if device == "cuda" else ("fp32",):
    t = time.perf_counter()
    s = evaluate(d / "questions" / "eval.arrow", None, None, d / "data", work / f"p-{precision}.arrow",
                 EvalConfig.from_preset("default", baseline="none", precision=precision,
                                        max_questions=limit, batch_size=32), llm=llm)
    out[f"answer_{precision}"] = {"questions": s["questions"], "acc": s["acc"],
                                  "questions_per_s": s["questions_per_s"],
                                  "wall_s": round(time.perf_counter() - t, 1)}
report = json.loads((run / "report" / "report.json").read_text())
out["tiny_overall_acc"] = report["overall"]["acc"]
Path(sys.argv[7]).write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps(out, indent=2))
EOF
