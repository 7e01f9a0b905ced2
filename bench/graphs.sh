#!/usr/bin/env bash
# Task-graph benchmark over a real local farm (one coordinator, two workers × 2 slots, real FFmpeg, the procedural
# first-and-last-frame model with a simulated model latency, LATENCY seconds, default 10): the same 30 s one-take job (strict continuity) as an
# image-to-video chain and as keyframes-then-every-chunk-at-once, one after the other on the same farm.
#   bench/graphs.sh            (needs a Release build: deploy/local/test.sh or dotnet build -c Release)
# Prints one line per strategy: the job's makespan (created_at → finished_at) and its chunks' span (first chunk
# started → last chunk finished), from the job's own timestamps.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CLI=(dotnet artifacts/bin/VideoGen.Cli/release/videogen.dll)
PORT="${VIDEOGEN_BENCH_PORT:-7172}"
DIR="$(pwd)/.farm/bench-graphs"
rm -rf "$DIR"; mkdir -p "$DIR"
Procedural__LatencySeconds="${LATENCY:-10}" "${CLI[@]}" farm up --workers 2 --port "$PORT" --dir "$DIR" >"$DIR/farm.out" 2>&1 &
FARM=$!
trap 'kill -TERM $FARM 2>/dev/null; wait $FARM 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do grep -q '^farm ready' "$DIR/farm.out" && break; sleep 0.5; done
grep -q '^farm ready' "$DIR/farm.out" || { cat "$DIR/farm.out"; exit 1; }

span() { python3 -c 'import sys,datetime as d; f=lambda s: d.datetime.fromisoformat(s.replace("Z","+00:00")); print(f"{(f(sys.argv[2])-f(sys.argv[1])).total_seconds():.1f}")' "$1" "$2"; }

for strategy in chain keyframes; do
  id=$("${CLI[@]}" --coordinator "http://127.0.0.1:$PORT" submit "A 30 second product showcase for a titanium smartwatch" \
    --model procedural-flf2v --strategy "$strategy" --continuity strict --resolution 480p)
  "${CLI[@]}" --coordinator "http://127.0.0.1:$PORT" watch "$id" >/dev/null
  job=$("${CLI[@]}" --coordinator "http://127.0.0.1:$PORT" get "$id" --json | jq -c '.job // .')
  [ "$(jq -r .state <<<"$job")" = "JOB_STATE_SUCCEEDED" ] || { echo "$strategy: job $id did not succeed: $(jq -r .error <<<"$job")"; exit 1; }
  makespan=$(span "$(jq -r .createdAt <<<"$job")" "$(jq -r .finishedAt <<<"$job")")
  chunks=$(jq -c '[.tasks[] | select(.kind == "TASK_KIND_CHUNK")]' <<<"$job")
  chunk_span=$(span "$(jq -r 'map(.startedAt) | min' <<<"$chunks")" "$(jq -r 'map(.finishedAt) | max' <<<"$chunks")")
  echo "$strategy: makespan ${makespan} s, chunks from first start to last finish ${chunk_span} s ($(jq length <<<"$chunks") chunks, $(jq '[.tasks[] | select(.kind == "TASK_KIND_KEYFRAME")] | length' <<<"$job") keyframes)"
done
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%F)"
