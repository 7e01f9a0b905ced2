#!/usr/bin/env bash
# Builds the solution once and runs every test project; the exit code is the tests' result.
#   deploy/local/test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Cli]
set -euo pipefail

# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# What the tests need on this machine. Extension point: add packages here as the tests
# grow (prometheus, postgresql, nodejs/npm, chromium…); ensure_apt skips what is present.
TEST_APT_PACKAGES=(ffmpeg prometheus)

# Extension point: set-up steps that are not apt packages (npm installs for the Node
# client and the S3 test server, …). Keep each one idempotent.
prepare_test_tools() {
  # The S3-compatible server of the storage tests (tests/support/s3): npm ci when its lock file
  # is newer than the installed tree, so a second run installs nothing.
  local s3="$VIDEOGEN_ROOT/tests/support/s3"
  if [[ ! -f "$s3/node_modules/.package-lock.json" || "$s3/package-lock.json" -nt "$s3/node_modules/.package-lock.json" ]]; then
    command -v npm >/dev/null 2>&1 || ensure_apt nodejs npm
    log "installing the S3 test server (npm ci in tests/support/s3)…"
    (cd "$s3" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ensure_dotnet
ensure_apt "${TEST_APT_PACKAGES[@]}"
prepare_test_tools

cd "$VIDEOGEN_ROOT"
build_release

status=0
dotnet test VideoGen.sln -c Release --no-build -nologo \
  --blame-hang-timeout 10m \
  --logger "console;verbosity=normal" \
  "$@" || status=$?
exit "$status"
