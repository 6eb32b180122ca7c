# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: facts. Batched stat/sha256 of every managed path before any
# resource runs, the preflight that joins them with the bundle's expect
# table, and the single-path stat/sha256 helpers used by full checks.

# depc_fact_stat PATH...: append "type<TAB>mode<TAB>uid<TAB>gid<TAB>path"
# lines (lstat, one process for all PATHs) to the facts file. Numeric ids
# only: a user/group name lookup per path would cost more than the whole
# stat (the preflight maps names via /etc/passwd and /etc/group).
# Missing paths are ignored: facts are hints.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_fact_stat() {
  local t
  t=$depc_tab
  if [ "$depc_stat_flavor" = gnu ]; then
    stat -c "%F$t%a$t%u$t%g$t%n" "$@" >>"$depc_tmp/facts.stat" 2>/dev/null
  else
    stat -f "%HT$t%Mp%Lp$t%u$t%g$t%N" "$@" >>"$depc_tmp/facts.stat" 2>/dev/null
  fi
  return 0
}

# depc_fact_sha256 PATH...: append the sha256 lines of PATHs (one process)
# to the facts file. Missing paths and directories are ignored. PATHs that
# are neither (a FIFO, a device) are left out so the run never blocks; that
# filter rebuilds the argument list and only runs when one is present.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_fact_sha256() {
  local n p special
  special=0
  for p do
    if [ -e "$p" ] && [ ! -f "$p" ] && [ ! -d "$p" ]; then
      special=1
      break
    fi
  done
  if [ "$special" = 1 ]; then
    n=$#
    while [ "$n" -gt 0 ]; do
      p=$1
      shift
      n=$((n - 1))
      if [ -f "$p" ]; then
        set -- "$@" "$p"
      fi
    done
  fi
  if [ $# -gt 0 ]; then
    depc_sha256_cmd "$@" >>"$depc_tmp/facts.sha" 2>/dev/null
  fi
  return 0
}

# depc_sha256_cmd [FILE...]: run the probed sha256 tool (stdin when no FILE).
# shellcheck disable=SC2120 # files for the batched facts; a bundle without files passes none
depc_sha256_cmd() {
  case $depc_sha_tool in
    sha256sum) sha256sum "$@" ;;
    shasum) shasum -a 256 "$@" ;;
    sha256) sha256 -r "$@" ;;
    *) openssl dgst -sha256 -r "$@" ;;
  esac
}

# depc_preflight: ONE awk process joining the expect table (depc_expect) with
# the stat and sha256 facts. Prints the space-separated indices 1..DEPC_COUNT
# that are NOT verified converged: indices missing from the table, every
# symlink ("l"), every "e" (stat'ed for the ledger only), and every entry whose type, mode, owner, group or digest
# differs from the facts (or has no facts). Owner/group names are mapped to
# ids through /etc/passwd and /etc/group when readable; a name found in
# neither (LDAP...) leaves its entry unverified, so it gets a full check.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_preflight() {
  local passwd group
  passwd=/dev/null
  group=/dev/null
  [ ! -r /etc/passwd ] || passwd=/etc/passwd
  [ ! -r /etc/group ] || group=/etc/group
  depc_expect | awk -F '\t' -v n="$DEPC_COUNT" '
    function unesc(s,   r, i, c, d, k) {
      r = ""
      k = length(s)
      for (i = 1; i <= k; i++) {
        c = substr(s, i, 1)
        if (c == "\\" && i < k) {
          d = substr(s, ++i, 1)
          if (d == "n") c = "\n"
          else if (d == "r") c = "\r"
          else c = d
        }
        r = r c
      }
      return r
    }
    function id(name, ids) {
      if (name ~ /^[0-9]+$/) return name + 0
      if (name in ids) return ids[name]
      return -1
    }
    FILENAME == ARGV[1] {
      if (NF < 5) next
      t = tolower($1)
      if (t ~ /^regular/) t = "f"
      else if (t ~ /^directory/) t = "d"
      else if (t ~ /^symbolic/) t = "l"
      else t = "o"
      p = $5
      for (i = 6; i <= NF; i++) p = p "\t" $i
      st[p] = t; sm[p] = $2 + 0; su[p] = $3 + 0; sg[p] = $4 + 0
      next
    }
    FILENAME == ARGV[2] {
      line = $0
      e = 0
      if (substr(line, 1, 1) == "\\") { e = 1; line = substr(line, 2) }
      h = substr(line, 1, 64)
      if (h !~ /^[0-9a-f]+$/ || length(h) != 64) next
      rest = substr(line, 65)
      i = index(rest, "/")
      if (i == 0) next
      p = substr(rest, i)
      if (e) p = unesc(p)
      sha[p] = h
      next
    }
    FILENAME == ARGV[3] {
      if (split($0, a, ":") >= 3 && !(a[1] in uids)) uids[a[1]] = a[3] + 0
      next
    }
    FILENAME == ARGV[4] {
      if (split($0, a, ":") >= 3 && !(a[1] in gids)) gids[a[1]] = a[3] + 0
      next
    }
    NF >= 7 {
      p = $3
      if ($2 == "l" || !(p in st) || st[p] != $2) next
      if ($4 != "-" && sm[p] != $4 + 0) next
      if ($5 != "-" && id($5, uids) != su[p]) next
      if ($6 != "-" && id($6, gids) != sg[p]) next
      if ($2 == "f" && $7 != "-" && sha[p] != $7) next
      ok[$1 + 0] = 1
    }
    END {
      s = ""
      for (i = 1; i <= n; i++) if (!(i in ok)) s = s (s == "" ? "" : " ") i
      print s
    }
  ' "$depc_tmp/facts.stat" "$depc_tmp/facts.sha" "$passwd" "$group" -
}

# depc_stat PATH: lstat one path into depc_st_mode (4 octal digits, e.g. 2755), depc_st_uid, depc_st_gid, depc_st_user,
# depc_st_group. Returns 1 with depc_error set when stat fails.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_stat() {
  local out t
  t=$depc_tab
  if [ "$depc_stat_flavor" = gnu ]; then
    out=$(stat -c "%F$t%a$t%u$t%g$t%U$t%G" "$1" 2>"$depc_tmp/err")
  else
    out=$(stat -f "%HT$t%Mp%Lp$t%u$t%g$t%Su$t%Sg" "$1" 2>"$depc_tmp/err")
  fi
  # shellcheck disable=SC2181 # the status of the assignment above
  if [ $? -ne 0 ]; then
    depc_fail "cannot stat $1" "$depc_tmp/err"
    return 1
  fi
  out=${out#*"$t"}
  depc_st_mode=${out%%"$t"*}
  while [ ${#depc_st_mode} -lt 4 ]; do
    depc_st_mode=0$depc_st_mode
  done
  out=${out#*"$t"}
  depc_st_uid=${out%%"$t"*}
  out=${out#*"$t"}
  depc_st_gid=${out%%"$t"*}
  out=${out#*"$t"}
  depc_st_user=${out%%"$t"*}
  depc_st_group=${out#*"$t"}
  return 0
}

# depc_sha256_of FILE: the lowercase hex sha256 of FILE's bytes into
# depc_digest (read on stdin, so names are never escaped). Returns 1 with
# depc_error set on failure.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_sha256_of() {
  local out
  if ! out=$(depc_sha256_cmd 2>"$depc_tmp/err" <"$1"); then
    depc_fail "cannot compute the sha256 of $1" "$depc_tmp/err"
    return 1
  fi
  out=${out#\\}
  depc_digest=${out%%[!0-9a-f]*}
  if [ ${#depc_digest} -ne 64 ]; then
    depc_error="cannot compute the sha256 of $1: unexpected output from $depc_sha_tool"
    return 1
  fi
  return 0
}
