#!/bin/sh
# Rebuild every test plugin, then record what they were built from in manifest.sha256.
# CI does not rebuild: the .wasm files are committed, and test_plugins_build.py checks the
# manifest so that a source edited without a rebuild fails the tests.
#
# Needs clang 14 and wasm-ld (Debian: clang, lld) for the C filters, node and npm for the
# AssemblyScript ones (npm ci installs the exact versions of package-lock.json).
set -eu
cd "$(dirname "$0")"

sh c/build.sh

(cd assemblyscript && npm ci --no-audit --no-fund && npm run build)

# Every input and output of the two builds, sorted so the manifest is byte-identical each time.
find build.sh c assemblyscript \
    -path assemblyscript/node_modules -prune -o \
    -type f \( -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.ts' -o -name '*.json' \
               -o -name '*.wasm' -o -name '.npmrc' \) -print \
    | LC_ALL=C sort | xargs sha256sum > manifest.sha256
