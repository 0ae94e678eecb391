#!/usr/bin/env bash
# Sets up the Python environment of the output-format test (crates/tapir/tests/outputs.rs): a
# virtual environment at VENV_DIR with scripts/requirements-test.txt installed from PyPI, kept
# while the requirements do not change. Prints the environment's python on stdout.
# Installs python3 and its venv module with apt-get when they are missing and this runs as root
# (as on CI); otherwise says what to install.
set -euo pipefail
venv=${1:?usage: scripts/test-deps.sh VENV_DIR}
req="$(cd "$(dirname "$0")" && pwd)/requirements-test.txt"
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "test-deps: installing python3 and python3-venv with apt-get" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >&2
    else
        echo "test-deps: python3 with its venv module is missing (apt-get install python3 python3-venv)" >&2
        exit 1
    fi
fi
stamp="$venv/requirements-test.txt"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$req" "$stamp"; then
    echo "test-deps: creating $venv and installing $(grep -c '^[a-z]' "$req") packages" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
    cp "$req" "$stamp"
fi
echo "$venv/bin/python"
