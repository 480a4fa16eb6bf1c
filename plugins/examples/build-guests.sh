#!/usr/bin/env bash
# Builds the example plugins written in other languages than Rust into
# plugins/target/guest/: `regex.wasm` (Python, componentize-py) and `js_welcome.wasm`
# (JavaScript, componentize-js). The tools are installed on first use, at the versions
# pinned here and in js-welcome/package-lock.json: componentize-py into a virtual
# environment under plugins/target/guest-tools, componentize-js into
# js-welcome/node_modules. Needs python3 (with venv) and npm.
#
# A component newer than its sources and the WIT is not built again. Concurrent runs (one
# per test process) take turns on a lock, and each component is written under a
# temporary name and renamed into place, so a reader never sees half a file.
set -euo pipefail
cd "$(dirname "$0")"
examples="$PWD"
out="$examples/../target/guest"
tools="$examples/../target/guest-tools"
componentize_py_version="0.25.1"
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9

# Whether $1 exists and is newer than every file after it.
fresh() {
  local target="$1"
  shift
  [ -f "$target" ] || return 1
  [ -z "$(find "$@" -newer "$target" -type f -print -quit)" ]
}

if ! fresh "$out/regex.wasm" python-regex/app.py ../wit build-guests.sh; then
  if [ ! -x "$tools/bin/componentize-py" ] || ! "$tools/bin/componentize-py" --version | grep -q "$componentize_py_version"; then
    # A fresh environment: one made in another directory (a moved checkout) keeps that
    # directory in its scripts and can't be mended in place.
    rm -rf "$tools"
    python3 -m venv "$tools"
    "$tools/bin/pip" install --quiet --disable-pip-version-check "componentize-py==$componentize_py_version"
  fi
  (
    cd python-regex
    "$tools/bin/componentize-py" -d ../../wit -w filter-operator componentize app -o "$out/regex.wasm.tmp"
  )
  mv "$out/regex.wasm.tmp" "$out/regex.wasm"
fi

if ! fresh "$out/js_welcome.wasm" js-welcome/welcome.js js-welcome/package-lock.json ../wit build-guests.sh; then
  (
    cd js-welcome
    # Installed again whenever the lock file is newer than the installation.
    if ! fresh node_modules/.package-lock.json package-lock.json; then
      npm ci --no-audit --no-fund --loglevel=error
    fi
    npx --no-install componentize-js welcome.js -w ../../wit -n bulk-action --disable http fetch-event \
      -o "$out/js_welcome.wasm.tmp"
  )
  mv "$out/js_welcome.wasm.tmp" "$out/js_welcome.wasm"
fi
ls -l "$out"/*.wasm
