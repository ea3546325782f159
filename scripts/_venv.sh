# Shared by scripts/run and scripts/test: create .venv once and install aimport into it.
# Usage: . scripts/_venv.sh [extras]   (extras e.g. "test")
set -eu
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${AIMPORT_VENV:-$REPO/.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating virtual environment in $VENV" >&2
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.aimport-installed-${1:-base}"
if [ ! -f "$stamp" ] || [ "$REPO/pyproject.toml" -nt "$stamp" ]; then
  echo "installing aimport${1:+[$1]} into $VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$REPO${1:+[$1]}"
  touch "$stamp"
fi
