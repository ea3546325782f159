# Shared by scripts/run, scripts/test and scripts/docs: create .venv once and install aimport into it.
# Usage: AIMPORT_EXTRAS=test . scripts/_venv.sh   (the extras, comma-separated, or empty for none)
# The extras come in a variable, never as "$1": a sourced file without arguments sees its caller's
# arguments, so `scripts/run --demo-dialer` would otherwise ask pip for the extra "--demo-dialer".
set -eu
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${AIMPORT_VENV:-$REPO/.venv}"
PY="${PYTHON:-python3}"
_extras="${AIMPORT_EXTRAS:-}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating virtual environment in $VENV" >&2
  "$PY" -m venv "$VENV"
fi
_installed=""  # a stamp newer than pyproject.toml for these extras (any install has the base packages)
for _stamp in "$VENV"/.aimport-installed-*; do
  [ -f "$_stamp" ] && [ ! "$REPO/pyproject.toml" -nt "$_stamp" ] || continue
  case ",${_stamp##*/.aimport-installed-}," in
    *",${_extras:-base},"*) _installed=yes ;;
  esac
  [ -z "$_extras" ] && _installed=yes
done
if [ -z "$_installed" ]; then
  echo "installing aimport${_extras:+[$_extras]} into $VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$REPO${_extras:+[$_extras]}"
  touch "$VENV/.aimport-installed-${_extras:-base}"
fi
unset _extras _installed _stamp
