#!/usr/bin/env bash
# Builds the solution once and runs every test project; the exit code is the tests' result.
#   deploy/local/test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Cli]
set -euo pipefail

# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# What the tests need on this machine. Extension point: add packages here as the tests
# grow (prometheus, postgresql, nodejs/npm, chromium…); ensure_apt skips what is present.
TEST_APT_PACKAGES=(ffmpeg fonts-dejavu-core espeak-ng prometheus postgresql
  protobuf-compiler protobuf-compiler-grpc python3-grpcio python3-protobuf chromium)

# Extension point: set-up steps that are not apt packages (npm installs for the Node
# client and the S3 test server, …). Keep each one idempotent.
prepare_test_tools() {
  # Node packages: the Node.js client the end-to-end tests run (clients/node), the
  # S3-compatible server of the storage tests (tests/support/s3) and buf for the contract
  # tests (tests/support/buf), playwright-core for the web page's browser test
  # (tests/support/browser, driving Debian's chromium). npm ci when a lock file is
  # newer than the installed tree, so a second run installs nothing.
  local dir
  for dir in "$VIDEOGEN_ROOT/clients/node" "$VIDEOGEN_ROOT/tests/support/s3" "$VIDEOGEN_ROOT/tests/support/buf" "$VIDEOGEN_ROOT/tests/support/browser"; do
    if [[ ! -f "$dir/node_modules/.package-lock.json" || "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
      command -v npm >/dev/null 2>&1 || ensure_apt nodejs npm
      log "installing Node packages (npm ci in ${dir#"$VIDEOGEN_ROOT"/})…"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
  done
}

ensure_dotnet
ensure_apt "${TEST_APT_PACKAGES[@]}"
prepare_test_tools

cd "$VIDEOGEN_ROOT"
build_release

status=0
# -m:1: one test project at a time, so the end-to-end timings (farms of real processes) do not
# compete with the FFmpeg-heavy worker tests for the two cores.
dotnet test VideoGen.sln -c Release --no-build -nologo -m:1 \
  --blame-hang-timeout 10m \
  --logger "console;verbosity=normal" \
  "$@" || status=$?
exit "$status"
