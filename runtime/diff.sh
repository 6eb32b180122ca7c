# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: unified diffs for --check.

# depc_diff OLD NEW PATH OLDSHA NEWSHA: write the diff shown under a
# "would change" line into $depc_tmp/diff and set depc_has_diff=1:
# "--- PATH" / "+++ PATH (depc)" then `diff -u OLD NEW` minus its own two
# header lines; OLD is /dev/null for a new file. Binary content (a NUL byte
# in either side, or diff calling it binary) gives one line instead:
# "Binary content differs (sha256 OLDSHA -> NEWSHA)".
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_diff() {
  local out first
  out=$depc_tmp/diff
  depc_has_diff=1
  if depc_has_nul "$2" || { [ "$1" != /dev/null ] && depc_has_nul "$1"; }; then
    printf 'Binary content differs (sha256 %s -> %s)\n' "$4" "$5" >"$out"
    return 0
  fi
  diff -u "$1" "$2" >"$depc_tmp/diff.raw" 2>"$depc_tmp/err"
  if [ $? -gt 1 ]; then
    depc_fail "cannot diff $3" "$depc_tmp/err"
    depc_warn "$depc_error"
    printf '(no diff: %s)\n' "$depc_error" >"$out"
    depc_error=
    return 0
  fi
  first=
  IFS= read -r first <"$depc_tmp/diff.raw"
  case $first in
    'Binary files '* | 'Files '*)
      printf 'Binary content differs (sha256 %s -> %s)\n' "$4" "$5" >"$out"
      return 0
      ;;
  esac
  {
    printf '%s\n' "--- $3"
    printf '%s\n' "+++ $3 (depc)"
    sed '1,2d' "$depc_tmp/diff.raw"
  } >"$out"
  return 0
}

# depc_has_nul FILE: succeeds when FILE contains a NUL byte.
depc_has_nul() {
  tr -dc '\000' <"$1" >"$depc_tmp/nul" 2>/dev/null
  [ -s "$depc_tmp/nul" ]
}
