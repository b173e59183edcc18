#!/usr/bin/env bash
# The course's GPU check, for a fresh CUDA machine (a Colab GPU runtime, a cloud VM), from the repository root:
#
#     bash benchmarks/gpu_check.sh                  # install, GPU info, stage timings, every notebook under nbval
#     bash benchmarks/gpu_check.sh --no-install     # use the current python as it is
#     bash benchmarks/gpu_check.sh --dry-run        # on a CPU: smoke profile, 2 + 1 steps per stage, one notebook
#
# Options: --steps N (timed steps per stage, default 200), --max-stage-seconds S (default 25),
#          --notebook-steps N (every notebook stage trains at most N steps, default 30),
#          --notebook-timeout S (the whole nbval run, default 300), --out FILE (default benchmarks/results/gpu.txt),
#          --skip-notebooks, --skip-timings.
#
# What it does, all written to the --out file as well as the terminal:
#   1. install: a virtual environment .venv-gpu that sees the machine's packages (--system-site-packages: a
#      preinstalled CUDA torch is used, not downloaded again) and `pip install -e ".[dev]"` into it;
#   2. the GPU: nvidia-smi, and what torch sees;
#   3. benchmarks/gpu_check.py: the ceiling (a large 3x3 conv, float16 and float32), a few hundred steps of each
#      stage of the `course` profile with AMP (s/step, counted MACs as a fraction of the ceiling, peak GPU memory),
#      the projected full run (profile steps x s/step), and channels_last beside AMP;
#   4. every notebook under nbval (pyproject.toml's pytest options: --nbval-lax --nbval-current-env) with
#      COURSE_PROFILE=course and COURSE_NOTEBOOK_STEPS cutting every training stage of the notebooks.
# Budget: about 10 minutes on a T4-class GPU with a fast network -- an estimate, it has not run on a GPU yet:
#   install 1-2 min, timings about 3.5 min (each stage stops after --max-stage-seconds of timed steps), nbval
#   cut off after --notebook-timeout. Each training notebook renders the course profile's 372 spectral scenes
#   (about 45 s on one CPU core, measured on the CPU), which COURSE_NOTEBOOK_STEPS does not shorten.
# Exit status: that of the first part that failed (0 when all passed). CPU-only CI does not run this script.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

INSTALL=1
DRY_RUN=0
STEPS=200
MAX_STAGE_SECONDS=25
NB_STEPS=30
NB_TIMEOUT=300
OUT="benchmarks/results/gpu.txt"
SKIP_NOTEBOOKS=0
SKIP_TIMINGS=0
PYTHON="${PYTHON:-python3}"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) INSTALL=0 ;;
    --dry-run) DRY_RUN=1; INSTALL=0 ;;
    --steps) STEPS="$2"; shift ;;
    --max-stage-seconds) MAX_STAGE_SECONDS="$2"; shift ;;
    --notebook-steps) NB_STEPS="$2"; shift ;;
    --notebook-timeout) NB_TIMEOUT="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    --skip-notebooks) SKIP_NOTEBOOKS=1 ;;
    --skip-timings) SKIP_TIMINGS=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu_check.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

mkdir -p "$(dirname "$OUT")"
: > "$OUT"
exec > >(tee -a "$OUT") 2>&1   # everything below goes to the terminal and to $OUT

STATUS=0
fail() { echo "FAILED: $1"; [ "$STATUS" -ne 0 ] || STATUS="${2:-1}"; }
section() { echo; echo "===== $1 ($(date -u +%H:%M:%S) UTC) ====="; }
START=$(date +%s)

section "gpu_check.sh $(if [ "$DRY_RUN" = 1 ]; then echo '--dry-run (CPU check of the script, measures nothing)'; fi)"
echo "repository: $(pwd), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' +uncommitted changes')"
echo "options: steps $STEPS, max stage seconds $MAX_STAGE_SECONDS, notebook steps $NB_STEPS, notebook timeout ${NB_TIMEOUT}s, out $OUT"

if [ "$INSTALL" = 1 ]; then
  section "install"
  if [ ! -x .venv-gpu/bin/python ]; then
    "$PYTHON" -m venv --system-site-packages .venv-gpu || { fail "creating the virtual environment .venv-gpu"; exit "$STATUS"; }
  fi
  # shellcheck disable=SC1091
  . .venv-gpu/bin/activate
  PYTHON=python
  python -m pip install --quiet --upgrade pip || true
  python -m pip install --quiet -e ".[dev]" || { fail "pip install -e .[dev]"; exit "$STATUS"; }
  echo "installed into .venv-gpu ($(python -c 'import sys; print(sys.version.split()[0])'))"
elif [ -n "${VIRTUAL_ENV:-}" ]; then
  PYTHON=python
fi

section "GPU"
if command -v nvidia-smi > /dev/null 2>&1; then
  nvidia-smi || echo "(nvidia-smi failed)"
else
  echo "nvidia-smi: not found"
fi
"$PYTHON" - <<'EOF' || fail "python cannot import torch"
import torch
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
if torch.cuda.is_available():
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        print(f"cuda:{i}: {p.name}, {p.total_memory / 2**30:.1f} GiB, compute capability {p.major}.{p.minor}")
else:
    print("torch sees no CUDA device")
EOF
if [ "$DRY_RUN" = 0 ] && ! "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  fail "no CUDA device: this script is for a GPU machine (on a CPU: bash benchmarks/gpu_check.sh --dry-run)" 3
  exit "$STATUS"
fi

if [ "$SKIP_TIMINGS" = 0 ]; then
  section "stage timings, peak memory, projected full run (benchmarks/gpu_check.py)"
  if [ "$DRY_RUN" = 1 ]; then
    "$PYTHON" benchmarks/gpu_check.py --dry-run || fail "benchmarks/gpu_check.py --dry-run"
  else
    "$PYTHON" benchmarks/gpu_check.py --profile course --steps "$STEPS" --max-stage-seconds "$MAX_STAGE_SECONDS" \
      || fail "benchmarks/gpu_check.py"
  fi
fi

if [ "$SKIP_NOTEBOOKS" = 0 ]; then
  if [ "$DRY_RUN" = 1 ]; then
    NB_PROFILE=smoke
    NOTEBOOKS=(notebooks/00_setup.ipynb)
  else
    NB_PROFILE=course
    NOTEBOOKS=(notebooks/)
  fi
  section "notebooks under nbval: COURSE_PROFILE=$NB_PROFILE COURSE_NOTEBOOK_STEPS=$NB_STEPS ${NOTEBOOKS[*]}"
  if [ "$DRY_RUN" = 0 ] && [ -d notebooks/runs ]; then
    # the notebooks resume from the run folders they find (notebooks/runs/course-course...): a folder trained
    # with other step counts would make their checks fail, so earlier runs are moved aside (not deleted)
    ASIDE="notebooks/runs.before-gpu-check-$(date -u +%Y%m%d-%H%M%S)"
    mv notebooks/runs "$ASIDE" && echo "moved the earlier notebooks/runs aside to $ASIDE"
  fi
  NB_START=$(date +%s)
  # SIGINT at the timeout: pytest stops like after a Ctrl-C and still prints its summary of what ran
  COURSE_PROFILE="$NB_PROFILE" COURSE_NOTEBOOK_STEPS="$NB_STEPS" timeout -s INT -k 30 "$NB_TIMEOUT" \
    "$PYTHON" -m pytest "${NOTEBOOKS[@]}" -p no:cacheprovider -v -rfE --durations=15 \
    || fail "nbval (exit status $?; 124 or 2 after ${NB_TIMEOUT}s: the --notebook-timeout ran out)"
  echo "nbval: $(( $(date +%s) - NB_START )) s"
fi

section "done"
echo "total: $(( $(date +%s) - START )) s; status $STATUS ($( [ "$STATUS" = 0 ] && echo 'everything passed' || echo 'see FAILED above'))"
echo "report: $OUT"
exit "$STATUS"
