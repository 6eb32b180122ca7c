# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: cron jobs. A user's crontab holds one block that depc owns:
#
#   # BEGIN depc ENV (managed by depc: edits up to the END line are overwritten)
#   # depc cronjob NAME
#   LINE
#   # END depc ENV
#
# (ENV is the environment's name: two environments deployed to one host
# keep a block each.) Lines outside the block are kept byte for byte. The
# crontab is read with `crontab -l` and installed with `crontab FILE`
# (`-u USER` unless the run's own user is USER: only root may use -u), so
# Debian's cron and busybox crontab both work.

# depc_cronjob USER ENTRIES...: (collected: all CronJobs of USER on the
# host in one call; ENTRIES is NAME LINE per job, in run order, ordinal 1
# first) each job's entry in the block is LINE: added (created), rewritten
# (content) or left; entries of names that are not here (jobs that left the
# model) are left for their own removal. The crontab is installed once when
# it differs; --check attaches its diff to the first job that changes.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_cronjob() {
  local user n st first
  user=$1
  shift
  depc_cron_need || return 1
  depc_cron_read "$user" || return 1
  : >"$depc_tmp/cron.want"
  while [ $# -ge 2 ]; do
    printf '%s\t%s\n' "$1" "$2" >>"$depc_tmp/cron.want"
    shift 2
  done
  depc_cron_merge "$user" '' || return 1
  n=0
  first=
  while IFS= read -r st; do
    n=$((n + 1))
    case $st in
      created) depc_member_change "$n" created "added to the crontab of $user" ;;
      content) depc_member_change "$n" content "changed in the crontab of $user" ;;
      foreign)
        n=1
        depc_member_change 1 block "lines edited into depc's block dropped"
        ;;
      *) continue ;;
    esac
    [ -n "$first" ] || first=$n
  done <"$depc_tmp/cron.status"
  diff "$depc_tmp/cron.old" "$depc_tmp/cron.new" >/dev/null 2>&1 && return 0
  if [ -z "$first" ]; then
    # The block's text changed with no job (a missing final newline added).
    first=1
    depc_member_change 1 block "depc's block rewritten"
  fi
  if [ "$depc_mode" = check ]; then
    depc_diff "$depc_tmp/cron.old" "$depc_tmp/cron.new" "crontab of $user" - -
    depc_member_diff "$first" "$depc_tmp/diff"
    return 0
  fi
  depc_cron_install "$user"
}

# depc_cron_need: crontab is on PATH, else depc_error names the host and the tool.
depc_cron_need() {
  command -v crontab >/dev/null 2>&1 && return 0
  depc_error="'crontab' not found on host $DEPC_HOST (PATH=$PATH); install cron"
  return 1
}

# depc_cron_ctl USER ARGS...: `crontab ARGS...` for USER's crontab: with
# `-u USER` unless the run's own user is USER.
depc_cron_ctl() {
  if [ -z "${depc_cron_me-}" ]; then
    depc_cron_me=$(id -un 2>/dev/null) || depc_cron_me=-
  fi
  if [ "$1" = "$depc_cron_me" ]; then
    shift
    crontab "$@"
  else
    crontab -u "$@"
  fi
}

# depc_cron_read USER: USER's crontab into $depc_tmp/cron.old (empty when
# the user has none). Returns 1 with depc_error when crontab -l fails
# otherwise (an unknown user, no permission).
depc_cron_read() {
  if depc_cron_ctl "$1" -l </dev/null >"$depc_tmp/cron.old" 2>"$depc_tmp/err"; then
    return 0
  fi
  # "no crontab for USER" (Debian), "can't open 'USER'" (busybox).
  if grep -q -i -e 'no crontab' -e "can't open" "$depc_tmp/err"; then
    : >"$depc_tmp/cron.old"
    return 0
  fi
  depc_fail "cannot read the crontab of $1 (crontab -l)" "$depc_tmp/err"
}

# depc_cron_merge USER DROP: one awk over $depc_tmp/cron.want (NAME<TAB>LINE
# lines) and cron.old into cron.new: the old block's entries in place
# (rewritten when wanted, DROP's left out), new ones appended, the block
# gone when it has no entry, everything outside it as it was. cron.status
# gets a line per wanted entry (created, content, ok), then "foreign" when
# the block held lines that are not entries, "dropped" when DROP was there.
# A BEGIN line without its END fails (the block cannot be found safely).
depc_cron_merge() {
  awk -v begin="# BEGIN depc $DEPC_ENV (managed by depc: edits up to the END line are overwritten)" \
    -v end="# END depc $DEPC_ENV" -v drop="$2" -v status="$depc_tmp/cron.status" '
    FILENAME == ARGV[1] {
      if ($0 == "") next
      t = index($0, "\t")
      nm = substr($0, 1, t - 1)
      n++; wname[n] = nm; wline[nm] = substr($0, t + 1)
      next
    }
    { old[++m] = $0 }
    END {
      b = 0; e = 0
      for (i = 1; i <= m; i++) if (old[i] == begin) { b = i; break }
      if (b) {
        for (i = b + 1; i <= m; i++) if (old[i] == end) { e = i; break }
        if (!e) exit 3
      }
      k = 0; foreign = 0; dropped = 0
      if (b) for (i = b + 1; i < e; i++) {
        if (substr(old[i], 1, 15) == "# depc cronjob " && i + 1 < e) {
          nm = substr(old[i], 16); k++; oname[k] = nm; oline[nm] = old[i + 1]; i++
        } else foreign = 1
      }
      c = 0
      for (j = 1; j <= k; j++) {
        nm = oname[j]
        if (nm == drop) { dropped = 1; continue }
        c++; nname[c] = nm; nline[c] = (nm in wline) ? wline[nm] : oline[nm]
      }
      for (j = 1; j <= n; j++) if (!(wname[j] in oline)) { c++; nname[c] = wname[j]; nline[c] = wline[wname[j]] }
      printf "" > status
      for (j = 1; j <= n; j++) {
        nm = wname[j]
        print (!(nm in oline) ? "created" : oline[nm] == wline[nm] ? "ok" : "content") > status
      }
      if (foreign) print "foreign" > status
      if (dropped) print "dropped" > status
      last = b ? b - 1 : m
      for (i = 1; i <= last; i++) print old[i]
      if (c > 0) {
        print begin
        for (j = 1; j <= c; j++) { print "# depc cronjob " nname[j]; print nline[j] }
        print end
      }
      if (b) for (i = e + 1; i <= m; i++) print old[i]
    }' "$depc_tmp/cron.want" "$depc_tmp/cron.old" >"$depc_tmp/cron.new" 2>"$depc_tmp/err"
  case $? in
    0) return 0 ;;
    3) depc_error="the crontab of $1 has the line '# BEGIN depc $DEPC_ENV ...' but no '# END depc $DEPC_ENV' after it; fix it by hand (crontab -e -u $1)" ;;
    *) depc_fail "cannot merge the crontab of $1 (awk)" "$depc_tmp/err" ;;
  esac
  return 1
}

# depc_cron_install USER: (apply) $depc_tmp/cron.new becomes USER's crontab;
# an empty one removes the crontab (crontab -r).
depc_cron_install() {
  if [ -s "$depc_tmp/cron.new" ]; then
    depc_cron_ctl "$1" "$depc_tmp/cron.new" </dev/null >"$depc_tmp/err" 2>&1 && return 0
    depc_fail "crontab refused the new crontab of $1" "$depc_tmp/err"
    return 1
  fi
  depc_cron_ctl "$1" -r </dev/null >"$depc_tmp/err" 2>&1 && return 0
  depc_fail "cannot remove the crontab of $1 (crontab -r)" "$depc_tmp/err"
}

# depc_cronjob_remove USER NAME: (ledger.sh) the entry NAME leaves USER's
# block; the block goes with its last entry, the crontab with its last line.
# --check shows the crontab's diff. Without crontab on the host: left.
depc_cronjob_remove() {
  if ! command -v crontab >/dev/null 2>&1; then
    depc_left="'crontab' is not on host $DEPC_HOST any more"
    depc_left_warn=1
    return 0
  fi
  depc_cron_read "$1" || return 1
  : >"$depc_tmp/cron.want"
  depc_cron_merge "$1" "$2" || return 1
  grep -q '^dropped$' "$depc_tmp/cron.status" || return 0
  depc_change removed "removed from the crontab of $1"
  if [ "$depc_mode" = check ]; then
    depc_diff "$depc_tmp/cron.old" "$depc_tmp/cron.new" "crontab of $1" - -
    return 0
  fi
  depc_cron_install "$1"
}
