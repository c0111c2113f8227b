#!/usr/bin/env bash
# Prints the path of a Chromium for the browser tests (tests/e2e), providing one if it can:
#   1. $NAVIGATOR_CHROMIUM when it is set and executable, else a system Chromium;
#   2. else Debian's package `chromium`, installed with apt-get (with sudo when not root);
#   3. else Playwright's own browser (`playwright install chromium`);
#   4. else nothing: it says on stderr what to install, prints an empty line and exits 1,
#      and the browser tests fail with that advice.
# Playwright's own driver (a Node.js binary in the playwright package) must start too: on a
# minimal Debian it lacks libatomic.so.1, which it installs (package libatomic1) the same way.
# Messages go to stderr; stdout carries only the path. Usage: infra/chromium.sh [VENV]
set -uo pipefail
venv="${1:-.venv}"

say() { echo "chromium: $*" >&2; }

system_chromium() {
  local candidate
  for candidate in "${NAVIGATOR_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser \
    "$(command -v chromium 2>/dev/null)" "$(command -v chromium-browser 2>/dev/null)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# Installs Debian packages with apt-get, as root or with a password-less sudo.
apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    # Only a sudo that asks no password: `make test` never waits at a prompt.
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo -n"
    else
      say "not root and no password-less sudo: cannot install Debian's $*"
      return 1
    fi
  fi
  say "installing Debian's $* for the browser tests (once)"
  # Another apt-get (an unattended upgrade, another checkout's `make test`) may hold dpkg's
  # lock: wait for it rather than fail.
  local wait=(-o DPkg::Lock::Timeout=900)
  $sudo apt-get "${wait[@]}" update -qq >&2 \
    && $sudo env DEBIAN_FRONTEND=noninteractive \
      apt-get "${wait[@]}" install -y -qq --no-install-recommends "$@" >&2 \
    || { say "apt-get could not install $*"; return 1; }
}

debian_chromium() {
  apt_install chromium && system_chromium
}

# The Node.js binary that Playwright's Python package drives the browser through.
driver_node() {
  "$venv/bin/python" - <<'PY' 2>/dev/null
import os

import playwright

print(os.path.join(os.path.dirname(playwright.__file__), "driver", "node"))
PY
}

playwright_driver() {
  [ -x "$venv/bin/python" ] || return 0  # no venv yet: nothing to check
  local node missing
  node="$(driver_node)"
  [ -n "$node" ] && [ -x "$node" ] || return 0  # no playwright: the tests say so themselves
  "$node" --version >/dev/null 2>&1 && return 0
  missing="$(ldd "$node" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' ')"
  say "Playwright's driver ($node) cannot start; missing libraries: ${missing:-unknown}"
  case " $missing " in
    *" libatomic.so.1 "*) apt_install libatomic1 ;;
  esac
  "$node" --version >/dev/null 2>&1 && return 0
  say "install the libraries Playwright's driver lacks (${missing:-see ldd $node}; on" \
    "Debian, libatomic.so.1 is the package libatomic1), or set NAVIGATOR_SKIP_E2E=1."
  return 1
}

playwright_chromium() {
  local python="$venv/bin/python" path
  [ -x "$python" ] || return 1
  playwright_path() {
    "$python" - <<'PY' 2>/dev/null
import os
from playwright.sync_api import sync_playwright

with sync_playwright() as playwright:
    path = playwright.chromium.executable_path
print(path if os.access(path, os.X_OK) else "")
PY
  }
  path="$(playwright_path)"
  if [ -z "$path" ]; then
    say "trying Playwright's own browser (playwright install chromium)"
    "$venv/bin/playwright" install chromium >&2 || { say "playwright could not install chromium"; return 1; }
    path="$(playwright_path)"
  fi
  [ -n "$path" ] && echo "$path"
}

playwright_driver || { echo ""; exit 1; }

system_chromium || debian_chromium || playwright_chromium || {
  say "no Chromium for the browser tests. Install one of: Debian's package" \
    "(apt-get install --no-install-recommends chromium), or Playwright's browser" \
    "($venv/bin/playwright install chromium); or set NAVIGATOR_CHROMIUM to a Chromium," \
    "or NAVIGATOR_SKIP_E2E=1 to skip the browser tests."
  echo ""
  exit 1
}
