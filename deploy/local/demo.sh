#!/usr/bin/env bash
# The demo: a local farm (one coordinator, two workers), one prompt, one MP4.
#   deploy/local/demo.sh [PROMPT] [--out FILE]
# Prints the MP4's absolute path as its last line.
set -euo pipefail

# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PROMPT="A 30 second product showcase for a titanium smartwatch"
OUT="./videogen-demo.mp4"
PORT="${VIDEOGEN_DEMO_PORT:-7070}"
READY_TIMEOUT=90

while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) [[ $# -ge 2 ]] || die "--out needs a file"; OUT="$2"; shift 2 ;;
    --out=*) OUT="${1#--out=}"; shift ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    -*) die "unknown option $1 (usage: demo.sh [PROMPT] [--out FILE])" ;;
    *) PROMPT="$1"; shift ;;
  esac
done

ensure_dotnet
ensure_apt ffmpeg fonts-dejavu-core espeak-ng
build_release

CLI=(dotnet "$VIDEOGEN_ROOT/artifacts/bin/VideoGen.Cli/release/videogen.dll")
FARM_DIR="$VIDEOGEN_ROOT/.farm/demo"
rm -rf "$FARM_DIR"
mkdir -p "$FARM_DIR"
FARM_OUT="$FARM_DIR/farm.out"

"${CLI[@]}" farm up --workers 2 --port "$PORT" --dir "$FARM_DIR" >"$FARM_OUT" 2>&1 &
FARM_PID=$!

stop_farm() {
  if kill -0 "$FARM_PID" 2>/dev/null; then
    kill -TERM "$FARM_PID" 2>/dev/null || true
    wait "$FARM_PID" 2>/dev/null || true
  fi
}
trap stop_farm EXIT
trap 'exit 130' INT TERM

show_farm_log() {
  log "--- farm output ($FARM_OUT) ---"
  cat "$FARM_OUT" >&2 || true
  local f
  for f in "$FARM_DIR"/logs/*.log; do
    [[ -e "$f" ]] || continue
    log "--- $f (last 30 lines) ---"
    tail -n 30 "$f" >&2 || true
  done
}

# Wait for the farm's "farm ready" line, bounded; fail early if the farm exits.
deadline=$((SECONDS + READY_TIMEOUT))
until grep -q '^farm ready' "$FARM_OUT" 2>/dev/null; do
  if ! kill -0 "$FARM_PID" 2>/dev/null; then
    show_farm_log
    die "the farm exited before it was ready"
  fi
  if [[ $SECONDS -ge $deadline ]]; then
    show_farm_log
    die "the farm was not ready after ${READY_TIMEOUT} s"
  fi
  sleep 0.1
done
log "$(grep -m1 '^farm ready' "$FARM_OUT")"

# Live progress on a terminal (plain lines when piped); the CLI prints the MP4's absolute
# path as its last line, and nothing after it writes to stdout.
status=0
"${CLI[@]}" --coordinator "http://127.0.0.1:$PORT" submit "$PROMPT" --watch --out "$OUT" || status=$?
if [[ $status -ne 0 ]]; then
  show_farm_log
  exit "$status"
fi
stop_farm
