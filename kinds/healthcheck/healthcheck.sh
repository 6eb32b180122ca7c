# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: HealthCheck, a check run on every apply (runtime/health.sh).

# depc_healthcheck NAME SHOWN HEALTH...: apply runs the check HEALTH
# (depc_health's PROBE RETRIES INTERVAL TIMEOUT ARGS...) and fails when it
# fails; a check is no change: the ok line carries its result. --check does
# not run it (what it checks may not be deployed yet): "would check SHOWN".
depc_healthcheck() {
  if [ "$depc_mode" = check ]; then
    depc_note="would check: $2"
    return 0
  fi
  shift 2
  depc_health "health check" "$@"
}
