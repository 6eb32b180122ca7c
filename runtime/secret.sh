# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: commands that hold secrets (in argv or environment).

# depc_masked SECRETSFN CMD [ARGS...]: run CMD ARGS (exec'd in a subshell, so a
# program named like a builtin is still the program) with stdout and stderr
# into a private file, then print that output with every occurrence of every
# line of SECRETSFN's output replaced by ***. Returns CMD's status. Used by
# the run functions of commands with secrets, so a failure's output (which
# goes into messages and the report) never shows a secret.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_masked() {
  local fn rc
  fn=$1
  shift
  (exec "$@") >"$depc_tmp/masked" 2>&1
  rc=$?
  "$fn" | awk '
    NR == FNR { if ($0 != "") m[++n] = $0; next }
    {
      line = $0
      for (i = 1; i <= n; i++) {
        r = ""
        while ((k = index(line, m[i])) > 0) {
          r = r substr(line, 1, k - 1) "***"
          line = substr(line, k + length(m[i]))
        }
        line = r line
      }
      print line
    }
  ' - "$depc_tmp/masked"
  : >"$depc_tmp/masked"
  return "$rc"
}
