# Activates the project's virtual environment (made by `make install` at the repo root).
# resolve links: corpus dirs (and test copies) link to this file
MAIN_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../.." && pwd)
if [ ! -x "$MAIN_ROOT/tools/venv/bin/python" ]; then
  echo "tools/venv is missing: run 'make install' in $MAIN_ROOT first" >&2
  exit 1
fi
# shellcheck disable=SC1091
. "$MAIN_ROOT/tools/venv/bin/activate"
export PYTHONUNBUFFERED=1
export LC_ALL=C
