# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: the machine-readable --report (JSON lines).

# depc_report_write EXIT_STATUS NOT_RUN: turn the step log (TSV: index, kind,
# key, status, change names joined by ",", error) into JSON lines in
# $depc_report_file with one awk pass: one object per resource that ran and
# per removal ("removal":true instead of an index), then {"summary":{...}}.
# A resource that ran a health check (health.sh: INDEX RESULT ATTEMPTS
# SECONDS lines in $depc_tmp/health, the last per index counts) gets
# "health":{"result":"passed","attempts":N,"seconds":S}.
# Returns 1 (with a message) when the file cannot be written.
depc_report_write() {
  printf '%s\n%s\n%s\n' "$DEPC_HOST" "$DEPC_ENV" "$DEPC_VERSION" >"$depc_tmp/meta"
  [ -f "$depc_tmp/health" ] || : >"$depc_tmp/health"
  if ! awk -F '\t' \
    -v rc="$1" -v not_run="$2" -v n_ok="$depc_n_ok" -v n_changed="$depc_n_changed" \
    -v n_would="$depc_n_would" -v n_failed="$depc_n_failed" -v count="$DEPC_COUNT" \
    -v mode="$depc_mode" -v n_removed="${depc_n_removed:-0}" -v n_would_remove="${depc_n_would_remove:-0}" \
    -v n_not_removed="${depc_n_not_removed:-0}" -v n_rm_failed="${depc_n_rm_failed:-0}" '
    function esc(s,   r, i, c, n) {
      r = ""
      n = length(s)
      for (i = 1; i <= n; i++) {
        c = substr(s, i, 1)
        if (c == "\\") r = r "\\\\"
        else if (c == "\"") r = r "\\\""
        else if (c == "\t") r = r "\\t"
        else if (c == "\n") r = r "\\n"
        else if (c == "\r") r = r "\\r"
        else if (c < " ") r = r " "
        else r = r c
      }
      return "\"" r "\""
    }
    FILENAME == ARGV[1] { m[FNR] = $0; next }
    FILENAME == ARGV[2] { h[$1] = "{\"result\":" esc($2) ",\"attempts\":" ($3 + 0) ",\"seconds\":" ($4 + 0) "}"; next }
    {
      # "-": a removal (ledger.sh), not a resource of this bundle.
      line = ($1 == "-" ? "{\"removal\":true" : "{\"index\":" ($1 + 0)) ",\"kind\":" esc($2) ",\"key\":" esc($3) ",\"status\":" esc($4) ",\"changes\":["
      k = split($5, ch, ",")
      for (i = 1; i <= k; i++) line = line (i > 1 ? "," : "") esc(ch[i])
      line = line "]"
      if ($1 != "-" && ($1 + 0) in h) line = line ",\"health\":" h[$1 + 0]
      if ($4 == "failed") {
        e = $6
        for (i = 7; i <= NF; i++) e = e " " $i
        line = line ",\"error\":" esc(e)
      }
      print line "}"
    }
    END {
      printf "{\"summary\":{\"host\":%s,\"env\":%s,\"mode\":%s,\"version\":%s,", esc(m[1]), esc(m[2]), esc(mode), esc(m[3])
      printf "\"resources\":%d,\"ok\":%d,\"changed\":%d,\"would_change\":%d,\"failed\":%d,\"not_run\":%d,", count, n_ok, n_changed, n_would, n_failed, not_run
      printf "\"removed\":%d,\"would_remove\":%d,\"not_removed\":%d,\"removal_failed\":%d,\"exit\":%d}}\n", n_removed, n_would_remove, n_not_removed, n_rm_failed, rc
    }
  ' "$depc_tmp/meta" "$depc_tmp/health" "$depc_tmp/log" >"$depc_report_file" 2>"$depc_tmp/err"; then
    depc_fail "cannot write the report to $depc_report_file" "$depc_tmp/err"
    depc_err "$depc_error"
    return 1
  fi
  return 0
}
