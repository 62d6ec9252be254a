#!/usr/bin/env bash
# Build (or reuse) the venv of real OpenStack services that `make openstack`
# runs patchguard against: nova and cinder as released on PyPI, plus this
# checkout of patchguard (editable).  The venv is cached under .cache/
# (gitignored; PATCHGUARD_CACHE moves it) and rebuilt only when the
# requirement list changes; patchguard itself is reinstalled every time,
# since the cache may have been built from another clone.
# A failed install never fails the build: the reason goes to
# "$venv.failed" and the tests skip, printing it.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
cache=${PATCHGUARD_CACHE:-.cache}
venv="$cache/openstack-venv"
log="$cache/openstack-install.log"
reqs="nova==34.* cinder==29.*"
mkdir -p "$cache"
rm -f "$venv.failed"

fail() {
    echo "$1 (log: $log): $(grep -v '^WARNING: Location' "$log" | tail -n 1)" > "$venv.failed"
    echo "openstack: $(cat "$venv.failed"); the openstack tests will skip"
    exit 0
}

if [ ! -f "$venv/.installed" ] || [ "$(cat "$venv/.installed")" != "$reqs" ]; then
    start=$(date +%s)
    rm -rf "$venv"
    {
        "$PYTHON" -m venv "$venv" &&
        "$venv/bin/python" -m pip install -q --upgrade pip &&
        # shellcheck disable=SC2086 # word splitting is the point
        "$venv/bin/python" -m pip install -q $reqs
    } > "$log" 2>&1 || fail "pip install $reqs failed"
    echo "$reqs" > "$venv/.installed"
    echo "openstack: built $venv ($reqs) in $(( $(date +%s) - start )) s"
fi
"$venv/bin/python" -m pip install -q --no-deps -e . >> "$log" 2>&1 \
    || fail "installing this checkout's patchguard into $venv failed"
echo "openstack: $("$venv/bin/python" -m pip list 2>/dev/null | grep -Ei '^(nova|cinder|patchguard) ' | tr -s ' ' | paste -sd ',' -)"
