# shellcheck shell=bash
# `step NAME COMMAND...`: runs one CI step and records its duration. Sourced by .ci/run: at exit, passed or failed,
# a table lists every step with its seconds, and the step that failed is marked FAILED.
ci_started=$SECONDS
ci_names=()
ci_seconds=()
ci_results=()
ci_current=""
ci_current_started=0

step() {
  ci_current=$1
  shift
  ci_current_started=$SECONDS
  echo
  echo "=== CI step: $ci_current"
  "$@"
  ci_names+=("$ci_current")
  ci_seconds+=($((SECONDS - ci_current_started)))
  ci_results+=(passed)
  ci_current=""
}

# `not_run NAME REASON`: a step that could not run here; the table shows it as NOT RUN with the reason.
not_run() {
  echo
  echo "=== CI step: $1: NOT RUN: $2" >&2
  ci_names+=("$1")
  ci_seconds+=(0)
  ci_results+=("NOT RUN: $2")
}

ci_table() {
  local status=$?
  echo
  echo "=== CI step durations"
  printf '%-40s %8s  %s\n' "step" "seconds" "result"
  local i
  for i in "${!ci_names[@]}"; do
    printf '%-40s %8d  %s\n' "${ci_names[$i]}" "${ci_seconds[$i]}" "${ci_results[$i]}"
  done
  if [ -n "$ci_current" ]; then
    printf '%-40s %8d  %s\n' "$ci_current" $((SECONDS - ci_current_started)) "FAILED (exit $status)"
  fi
  printf '%-40s %8d  %s\n' "total" $((SECONDS - ci_started)) "$([ "$status" = 0 ] && echo passed || echo FAILED)"
  if [ -n "$ci_current" ]; then
    echo "CI failed in step: $ci_current"
  fi
}
trap ci_table EXIT
