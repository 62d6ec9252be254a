#!/usr/bin/env bash
# Build (once) a cached venv with real OpenStack services from PyPI for the
# "native first" tests (tests/test_native_services.py).  The venv lives
# under .cache/ (gitignored) and is reused while this script's SPEC line is
# unchanged.  Exit 0 with a printed reason when the install fails: the
# tests then skip with that reason.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
SPEC="nova==34.* ceilometer==27.* cinder==29.*"
DIR="$ROOT/.cache/native-services"
STAMP="$DIR/.installed"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$SPEC" ]; then
    echo "native-services: cached in $DIR"
    exit 0
fi
rm -rf "$DIR"
mkdir -p "$DIR"
"$PYTHON" -m venv "$DIR/venv"
if "$DIR/venv/bin/pip" install -q $SPEC -e "$ROOT" > "$DIR/install.log" 2>&1; then
    echo "$SPEC" > "$STAMP"
    echo "native-services: installed $SPEC in $DIR"
else
    echo "native-services: install failed, see $DIR/install.log"
fi
exit 0
