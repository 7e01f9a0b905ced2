#!/usr/bin/env bash
# Builds the solution once and runs every test project; the exit code is the tests' result.
#   deploy/local/test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Cli]
set -euo pipefail

# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# What the tests need on this machine. Extension point: add packages here as the tests
# grow (prometheus, postgresql, nodejs/npm, chromium…); ensure_apt skips what is present.
TEST_APT_PACKAGES=(ffmpeg)

# Extension point: set-up steps that are not apt packages (npm installs for the Node
# client and the S3 test server, …). Keep each one idempotent.
prepare_test_tools() {
  :
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
