#!/usr/bin/env bash
# Run the isolated-scenario tests on every pyenv Python (3.10, 3.12, 3.13)
# this machine has; 3.11 is covered by the main run.  Each gets its own
# venv with patchguard installed (editable) and the test extras.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
found=0
for minor in 3.10 3.12 3.13; do
    py=$(ls -d "$root"/versions/"$minor".*/bin/python"$minor" 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$py" ]; then
        echo "matrix: Python $minor not found under $root/versions: skipped"
        continue
    fi
    found=$((found + 1))
    venv=".venv-$minor"
    if [ ! -f "$venv/.installed-test" ] || [ setup.cfg -nt "$venv/.installed-test" ]; then
        "$py" -m venv "$venv"
        "$venv/bin/python" -m pip install -q --upgrade pip
        "$venv/bin/python" -m pip install -q -e '.[test]'
        touch "$venv/.installed-test"
    fi
    echo "matrix: isolated scenarios on $("$venv/bin/python" -V)"
    "$venv/bin/python" -m pytest -m "isolated and not hosts" -q
done
echo "matrix: ran on $found extra interpreter(s)"
