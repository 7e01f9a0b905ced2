#!/usr/bin/env bash
# Helpers shared by the local scripts (demo.sh, test.sh). Source it; it sets nothing else.
#   ensure_apt PKG...   install Debian packages that are missing (skips what is installed or on PATH)
#   ensure_dotnet       fail with install instructions unless the .NET 10 SDK is present
#   build_release       dotnet build VideoGen.sln -c Release, quietly, unless nothing changed since the last
#                       one (VIDEOGEN_SKIP_BUILD=1 skips it, VIDEOGEN_FORCE_BUILD=1 forces it)
set -euo pipefail

# The repository root: two folders above this file.
VIDEOGEN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export VIDEOGEN_ROOT

log() {
  printf '%s\n' "$*" >&2
}

die() {
  log "error: $*"
  exit 1
}

# Runs a command as root: directly when root, else through sudo when it exists.
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run '$*' (no sudo here); install it by hand"
  fi
}

# True when PKG is installed (dpkg) or a command of that name is on PATH.
is_present() {
  local pkg="$1"
  command -v "$pkg" >/dev/null 2>&1 && return 0
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'
}

# ensure_apt PKG... : installs the packages that are missing; runs apt-get update first
# only when apt cannot locate one of them.
ensure_apt() {
  local missing=() pkg
  for pkg in "$@"; do
    is_present "$pkg" || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get here; install them by hand"
  log "installing ${missing[*]}…"
  local need_update=0
  for pkg in "${missing[@]}"; do
    if ! apt-cache show "$pkg" >/dev/null 2>&1; then
      need_update=1
    fi
  done
  if [[ $need_update -eq 1 ]]; then
    as_root apt-get -o DPkg::Lock::Timeout=120 update -qq
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq "${missing[@]}" >/dev/null
}

# ensure_dotnet : the .NET 10 SDK must be on PATH.
ensure_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then
    log "error: the .NET 10 SDK is required (dotnet --list-sdks shows no 10.x)."
    log "install it, e.g.:"
    log "  curl -sSL https://dot.net/v1/dotnet-install.sh | bash -s -- --channel 10.0"
    log "  export PATH=\"\$HOME/.dotnet:\$PATH\""
    log "or see https://learn.microsoft.com/dotnet/core/install/linux-debian"
    exit 1
  fi
}

# build_release : builds the whole solution in Release (servers, CLI, tests).
# VIDEOGEN_SKIP_BUILD=1 skips it (the build is already there, e.g. in CI). A build that
# succeeded leaves artifacts/.build-stamp; when no source file (C#, project, proto, JSON, props,
# templates, looks) is newer than it, the build is skipped: a no-op `dotnet build` still costs
# ~5 s of CPU, a third of the warm demo's budget. VIDEOGEN_FORCE_BUILD=1 builds anyway.
build_release() {
  if [[ "${VIDEOGEN_SKIP_BUILD:-0}" == "1" ]]; then
    log "skipping the build (VIDEOGEN_SKIP_BUILD=1)"
    return 0
  fi
  local stamp="$VIDEOGEN_ROOT/artifacts/.build-stamp"
  if [[ "${VIDEOGEN_FORCE_BUILD:-0}" != "1" && -f "$stamp" ]] && ! sources_newer_than "$stamp"; then
    log "build is up to date (nothing changed since $stamp)"
    return 0
  fi
  log "building VideoGen.sln (Release)…"
  dotnet build "$VIDEOGEN_ROOT/VideoGen.sln" -c Release -v q -nologo
  mkdir -p "$VIDEOGEN_ROOT/artifacts"
  touch "$stamp"
}

# sources_newer_than FILE : true when a file the build reads is newer than FILE (or was deleted
# or renamed since: a directory's mtime changes then).
sources_newer_than() {
  local found
  found="$(cd "$VIDEOGEN_ROOT" && find . \
    \( -path ./artifacts -o -path ./.git -o -path ./.farm -o -name node_modules -o -name bin -o -name obj \) -prune \
    -o -newer "$1" \( -type d -o -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' \
       -o -name '*.proto' -o -name '*.json' -o -name '*.sln' -o -name '*.cube' -o -name '*.yaml' \) -print -quit)"
  [[ -n "$found" ]]
}
