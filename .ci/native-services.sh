#!/usr/bin/env bash
# Build (once) a cached venv with real OpenStack services from PyPI for the
# "native first" tests (tests/test_native_services.py).  The venv lives
# under .cache/ (gitignored), or PATCHGUARD_SERVICES_CACHE when set (so
# several clones and CI runs on one machine can share it), and is reused
# while this script's SPEC line is unchanged.  patchguard itself is not
# installed there: the tests put the checkout on PYTHONPATH.  Exit 0 with
# a printed reason when the install fails: the tests then skip.
set -u
set -f  # SPEC's "==34.*" words are requirements, never globs
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
SPEC="nova==34.* ceilometer==27.* cinder==29.* eventlet>=0.36 wrapt>=1.14"
DIR="${PATCHGUARD_SERVICES_CACHE:-$ROOT/.cache/native-services}"
STAMP="$DIR/.installed"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$SPEC" ]; then
    echo "native-services: cached in $DIR"
    exit 0
fi
# Only what this script made is removed: DIR may be a shared directory.
rm -rf "$DIR/venv" "$STAMP" "$DIR/install.log"
mkdir -p "$DIR"
"$PYTHON" -m venv "$DIR/venv"
# shellcheck disable=SC2086 # SPEC is a list of requirement words
if "$DIR/venv/bin/pip" install -q $SPEC > "$DIR/install.log" 2>&1; then
    echo "$SPEC" > "$STAMP"
    echo "native-services: installed $SPEC in $DIR"
else
    echo "native-services: install failed, see $DIR/install.log"
fi
exit 0
