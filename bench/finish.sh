#!/usr/bin/env bash
# Finishing benchmark: a 30 s showcase through a real local farm (one coordinator, one worker, real FFmpeg),
# finished at 720p and at 1080p, each against one plain re-encode of the same raw cut at the same size.
#   bench/finish.sh            (needs a Release build: deploy/local/test.sh or dotnet build -c Release)
# Prints one line per resolution: the finish task's wall time (as the worker measured it, from TaskStatus
# started_at/finished_at) and the plain re-encode's.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CLI=(dotnet artifacts/bin/VideoGen.Cli/release/videogen.dll)
PORT="${VIDEOGEN_BENCH_PORT:-7170}"
DIR="$(pwd)/.farm/bench-finish"
rm -rf "$DIR"; mkdir -p "$DIR"
"${CLI[@]}" farm up --workers 1 --port "$PORT" --dir "$DIR" >"$DIR/farm.out" 2>&1 &
FARM=$!
trap 'kill -TERM $FARM 2>/dev/null; wait $FARM 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do grep -q '^farm ready' "$DIR/farm.out" && break; sleep 0.5; done
grep -q '^farm ready' "$DIR/farm.out" || { cat "$DIR/farm.out"; exit 1; }

seconds() { python3 -c 'import sys,datetime as d; f=lambda s: d.datetime.fromisoformat(s.replace("Z","+00:00")); print(f"{(f(sys.argv[2])-f(sys.argv[1])).total_seconds():.2f}")' "$1" "$2"; }

for spec in "720p 1280 720" "1080p 1920 1080"; do
  read -r res w h <<<"$spec"
  id=$("${CLI[@]}" --coordinator "http://127.0.0.1:$PORT" submit "A 30 second product showcase for a titanium smartwatch" --resolution "$res")
  "${CLI[@]}" --coordinator "http://127.0.0.1:$PORT" watch "$id" >/dev/null
  job=$("${CLI[@]}" --coordinator "http://127.0.0.1:$PORT" get "$id" --json | jq -c '.job // .')
  finish=$(jq -c '.tasks[] | select(.taskId == "finish")' <<<"$job")
  finish_s=$(seconds "$(jq -r .startedAt <<<"$finish")" "$(jq -r .finishedAt <<<"$finish")")
  raw=$(jq -r '.tasks[] | select(.taskId == "stitch") | .outputUri' <<<"$job"); raw="${raw#file://}"
  start=$(date +%s.%N)
  ffmpeg -v error -y -i "$raw" -vf "scale=$w:$h:flags=lanczos" -c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p -crf 20 -r 24 -movflags +faststart "$DIR/plain-$res.mp4"
  plain_s=$(python3 -c "import sys; print(f'{float(sys.argv[2])-float(sys.argv[1]):.2f}')" "$start" "$(date +%s.%N)")
  echo "$res: finish task ${finish_s} s (transitions, grade, titles, encode), plain re-encode of the raw cut ${plain_s} s"
done
echo "machine: $(nproc) cores, $(ffmpeg -version | head -n1 | cut -d' ' -f1-3), $(date -u +%F)"
