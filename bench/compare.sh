#!/usr/bin/env bash
# Scheduler benchmarks of two commits in one run, interleaved (A, B, A, B, …) so that both see the same machine.
#   bench/compare.sh BEFORE [AFTER=HEAD] [ROUNDS=3] [BENCH=all]
# Builds each commit's bench/VideoGen.Bench in a throw-away worktree under ${TMPDIR:-/tmp}, then prints every
# round's figures per commit. Run it on a quiet machine; figures are in bench/README.md.
set -euo pipefail
BEFORE="${1:?usage: bench/compare.sh BEFORE [AFTER] [ROUNDS] [BENCH]}"
AFTER="${2:-HEAD}"
ROUNDS="${3:-3}"
WHICH="${4:-all}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${TMPDIR:-/tmp}/videogen-bench-compare"
mkdir -p "$WORK"

build() {
  local ref="$1" sha dir
  sha="$(git -C "$ROOT" rev-parse --short "$ref")"
  dir="$WORK/$sha"
  if [[ ! -d "$dir" ]]; then
    git -C "$ROOT" worktree add --detach -q "$dir" "$sha"
  fi
  dotnet build "$dir/bench/VideoGen.Bench" -c Release -nologo -v q >&2
  printf '%s\n' "$dir/artifacts/bin/VideoGen.Bench/release/VideoGen.Bench.dll"
}

A_DLL="$(build "$BEFORE")"
B_DLL="$(build "$AFTER")"
A="$(git -C "$ROOT" rev-parse --short "$BEFORE")"
B="$(git -C "$ROOT" rev-parse --short "$AFTER")"
for round in $(seq 1 "$ROUNDS"); do
  for side in A B; do
    if [[ $side == A ]]; then dll="$A_DLL" name="$A (before)"; else dll="$B_DLL" name="$B (after)"; fi
    echo "== round $round, $name"
    dotnet "$dll" "$WHICH" | sed -n '/^machine:/,$p'
  done
done
