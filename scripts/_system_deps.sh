# Shared by scripts/test and .ci/run: the real servers and programs the tests drive, from Debian's packages.
#   PostgreSQL (initdb, postgres): the system store on a real server   -- required
#   Chromium: the jobs view's browser test (driven by Playwright)       -- required
#   LibreOffice (soffice): spreadsheets saved the way LibreOffice users save them -- optional
# Installed with apt-get when missing (as root, or with sudo). A required one that cannot be installed is
# an error in CI (CI set); elsewhere its tests skip and say why.
_apt() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ -z "${_APT_UPDATED:-}" ]; then $sudo apt-get update -qq || return 1; _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
_need() {  # _need WHAT CHECK-COMMAND PACKAGE REQUIRED
  if ! eval "$2" >/dev/null 2>&1; then
    echo "installing $1 ($3) for the tests" >&2
    if ! _apt "$3" || ! eval "$2" >/dev/null 2>&1; then
      if [ "$4" = required ] && [ -n "${CI:-}" ]; then
        echo "ERROR: $3 could not be installed; CI runs every test that needs it" >&2
        return 1
      fi
      echo "WARNING: $3 could not be installed: the tests that need it will be skipped" >&2
    fi
  fi
}
_need PostgreSQL 'command -v initdb || ls /usr/lib/postgresql/*/bin/initdb' postgresql required
_need Chromium 'command -v chromium' chromium required
_need LibreOffice 'command -v soffice' libreoffice-calc-nogui optional
