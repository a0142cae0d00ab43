#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each and prints, per target, the
# executions, executions per second, the coverage (libFuzzer's `cov`: edges; `ft`: features) and
# the corpus size it ended with. Fails if any target finds a crash (its log and the crashing input,
# under fuzz/artifacts/<target>/, say what).
#
#   bash scripts/fuzz.sh [SECONDS] [--runs N] [--fresh] [--no-seeds] [--jobs N] [TARGET...]
#
# Each target starts from its corpus, fuzz/corpus/<target>/ (kept between runs, not committed),
# and the committed seeds, fuzz/seeds/<target>/ (valid inputs built from the golden files, see
# tests/fuzz_seeds.rs). --fresh starts from an empty temporary corpus instead of the kept one;
# --no-seeds leaves the seeds out (with --fresh: the coverage fuzzing finds on its own).
# --runs N stops each target after N executions instead of after SECONDS.
# --jobs N runs N targets at once (default 1; each uses one core). CI runs this for a few seconds
# per target (scripts/test.sh); the long runs are for people.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=60
fresh=0
seeds=1
jobs=1
runs=-1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --fresh) fresh=1 ;;
    --no-seeds) seeds=0 ;;
    --jobs) jobs="$2"; shift ;;
    --runs) runs="$2"; seconds=0; shift ;;
    [0-9]*) seconds="$1" ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)

cargo +nightly fuzz build >/dev/null 2>&1 || cargo +nightly fuzz build
bin_dir="target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

run_target() {
  local t="$1" corpus
  if [ "$fresh" = 1 ]; then
    corpus="$logs/corpus-$t"
  else
    corpus="corpus/$t"
  fi
  mkdir -p "$corpus" "artifacts/$t"
  local dirs=("$corpus")
  [ "$seeds" = 1 ] && [ -d "seeds/$t" ] && dirs+=("seeds/$t")
  if "$bin_dir/$t" "${dirs[@]}" -max_total_time="$seconds" -runs="$runs" -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" >"$logs/$t.log" 2>&1; then
    echo ok >"$logs/$t.rc"
  else
    echo failed >"$logs/$t.rc"
  fi
}

running=0
for t in "${targets[@]}"; do
  run_target "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

status=0
printf '%-22s %12s %9s %7s %7s %8s  %s\n' target executions exec/s cov ft corpus result
for t in "${targets[@]}"; do
  log="$logs/$t.log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  result=$(cat "$logs/$t.rc")
  printf '%-22s %12s %9s %7s %7s %8s  %s\n' "$t" "${execs:--}" "${rate:--}" "${cov:--}" "${ft:--}" "${corp:--}" "$result"
  if [ "$result" != ok ]; then
    tail -n 40 "$log" >&2
    echo "fuzz target $t failed (inputs under fuzz/artifacts/$t/)" >&2
    status=1
  fi
done
exit "$status"
