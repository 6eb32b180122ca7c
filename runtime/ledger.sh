# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: the ledger. STATE/ledger records what depc manages on this
# host, so that a resource that leaves the model is removed:
#
#   depc-ledger 1
#   KIND<TAB>KEY<TAB>CLAIM<TAB>FLAGS<TAB>FN<TAB>PARAM...    one line per entry
#   depc-ledger-end N                                       N = number of entries
#
# CLAIM is the path the entry occupies ('-' for none), FLAGS '-' or a comma
# list (keep: left on the host when it leaves the model; early: removed
# before the resources run, a process that could hold what its successor
# needs; created: depc created it), FN the function that removes it ('-':
# nothing to remove) and PARAMs its arguments. Every field is escaped: '\\'
# for a backslash, '\t' for a tab, '\n' for a newline; nothing in it is ever
# run as shell code (FN must be a depc_*_remove function of the bundle).
#
# The bundle declares its entries (depc_ledger, same fields; flag ifnew:
# record "created" when the path does not exist before the run). Apply
# writes old + declared before any resource runs (a run that fails or is
# killed leaves a ledger that still names everything it may have made), then
# removes the old entries that are not declared, each dropped from the file
# after its removal succeeded, and finally writes the declared entries. All
# writes are a temp file in the state directory and a rename.

# depc_ledger_begin: read STATE/ledger, compare it with the bundle's
# declared entries and prepare the removals (files in the private temp dir).
# Apply writes the union of both first. Returns 1 (message printed) when the
# ledger is from another depc version, damaged, or cannot be written.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_ledger_begin() {
  local old rc bad
  depc_lg_file=$depc_state_dir/ledger
  depc_lg_nrm=0
  depc_lg_fsame=1
  depc_lg_usame=1
  depc_lg_inplace=0
  depc_lg_hasold=0
  depc_n_removed=0
  depc_n_would_remove=0
  depc_n_not_removed=0
  depc_n_rm_failed=0
  depc_rm_gone=$depc_nl
  # A run killed while it wrote the ledger leaves the temp copy (the ledger
  # itself is whole: it is renamed into place); the next apply removes it.
  # Tested first: no rm process on every run for a file that is rarely there.
  if [ "$depc_mode" = apply ] && [ "$depc_lock_held" = 1 ] && { [ -e "$depc_lg_file.new" ] || [ -L "$depc_lg_file.new" ]; }; then
    rm -f "$depc_lg_file.new"
  fi
  command -v depc_ledger >/dev/null 2>&1 || return 0
  old=/dev/null
  [ ! -f "$depc_lg_file" ] || old=$depc_lg_file
  if [ -e "$depc_lg_file" ] && [ ! -f "$depc_lg_file" ]; then
    depc_err "the ledger $depc_lg_file is not a regular file; nothing was changed (move it away to deploy without removing anything)"
    return 1
  fi
  depc_ledger >"$depc_tmp/ledger.decl"
  awk -F '\t' -v tmp="$depc_tmp" -v report="${DEPC_REMOVALS:-remove}" '
    function unesc(s,   r, i, c, k) {
      r = ""
      k = length(s)
      for (i = 1; i <= k; i++) {
        c = substr(s, i, 1)
        if (c == "\\" && i < k) {
          c = substr(s, ++i, 1)
          if (c == "t") c = "\t"
          else if (c == "n") c = "\n"
        }
        r = r c
      }
      return r
    }
    function flagged(flags, f) { return index("," flags ",", "," f ",") > 0 }
    function withflags(line, flags,   n, a, i, r) {
      n = split(line, a, "\t")
      r = a[1] "\t" a[2] "\t" a[3] "\t" flags
      for (i = 5; i <= n; i++) r = r "\t" a[i]
      return r
    }
    FILENAME == ARGV[1] {
      if (NF >= 5) { p = $5; for (i = 6; i <= NF; i++) p = p "\t" $i; exists[p] = 1 }
      next
    }
    FILENAME == ARGV[2] {
      nd++; d[nd] = $0; did[nd] = $1 "\t" $2; dclaim[nd] = $3; dflags[nd] = $4
      if ($3 != "-") claims[$3] = 1
      declared[$1 "\t" $2] = nd
      next
    }
    {
      if (FNR == 1) {
        if ($0 == "depc-ledger 1") { hasold = 1; next }
        bad = ($0 ~ /^depc-ledger [0-9]/) ? "version\t" $0 : "damaged\tline 1 is not \"depc-ledger 1\""
        exit 3
      }
      if (ended) { bad = "damaged\tline " FNR " follows its end line"; exit 3 }
      if ($0 ~ /^depc-ledger-end [0-9]+$/) { ended = 1; endn = substr($0, 17) + 0; next }
      if (NF < 5 || $1 !~ /^[a-z][a-z0-9_]*$/ || $2 == "" || $3 == "" || $4 == "" || ($5 != "-" && $5 !~ /^depc_[a-z0-9_]+_remove$/)) {
        bad = "damaged\tline " FNR " is not a ledger entry"
        exit 3
      }
      no++; o[no] = $0; oid[no] = $1 "\t" $2; oclaim[no] = $3; oflags[no] = $4
      oldat[$1 "\t" $2] = no
    }
    END {
      if (bad != "") { print bad > (tmp "/ledger.bad"); exit 3 }
      if (hasold && !ended) { print "damaged\tit has no end line (cut short?)" > (tmp "/ledger.bad"); exit 3 }
      if (hasold && endn != no) { print "damaged\tits end line counts " endn " entries, it holds " no > (tmp "/ledger.bad"); exit 3 }
      inplace = 0
      for (i = 1; i <= nd; i++) {
        c = unesc(dclaim[i])
        if (dclaim[i] != "-" && (c in exists)) inplace++
        if (dclaim[i] != "-") print c > (tmp "/claims")
        f = ""
        nfl = split(dflags[i], fl, ",")
        for (j = 1; j <= nfl; j++) if (fl[j] != "ifnew" && fl[j] != "-" && fl[j] != "created") f = f (f == "" ? "" : ",") fl[j]
        if (flagged(dflags[i], "ifnew")) {
          k = oldat[did[i]]
          if (k ? flagged(oflags[k], "created") : !(c in exists)) f = f (f == "" ? "" : ",") "created"
        }
        u[++nu] = withflags(d[i], f == "" ? "-" : f)
      }
      nf = nu
      for (i = 1; i <= nf; i++) fin[i] = u[i]
      # Old entries the bundle does not declare, newest last; removed in reverse.
      for (i = 1; i <= no; i++) {
        if (oid[i] in declared) continue
        u[++nu] = o[i]
        if (flagged(oflags[i], "keep")) a = "keep"
        else if (oclaim[i] != "-" && (oclaim[i] in claims)) a = "claimed"
        else { a = "remove"; if (report == "report") fin[++nf] = o[i] }
        rm[++nrm] = a "\t" o[i]
        early[nrm] = flagged(oflags[i], "early")
      }
      printf "" > (tmp "/removals.early")
      printf "" > (tmp "/removals")
      for (i = nrm; i >= 1; i--) print rm[i] > (tmp (early[i] ? "/removals.early" : "/removals"))
      usame = (hasold && nu == no)
      for (i = 1; usame && i <= nu; i++) if (u[i] != o[i]) usame = 0
      fsame = (hasold && nf == no)
      for (i = 1; fsame && i <= nf; i++) if (fin[i] != o[i]) fsame = 0
      print "depc-ledger 1" > (tmp "/ledger.union")
      for (i = 1; i <= nu; i++) print u[i] > (tmp "/ledger.union")
      print "depc-ledger-end " (nu + 0) > (tmp "/ledger.union")
      print "depc-ledger 1" > (tmp "/ledger.final")
      for (i = 1; i <= nf; i++) print fin[i] > (tmp "/ledger.final")
      print "depc-ledger-end " (nf + 0) > (tmp "/ledger.final")
      print usame + 0, fsame + 0, inplace + 0, nrm + 0, hasold + 0 > (tmp "/ledger.status")
    }
  ' "$depc_tmp/facts.stat" "$depc_tmp/ledger.decl" "$old" 2>"$depc_tmp/err"
  rc=$?
  if [ "$rc" = 3 ] && IFS= read -r bad <"$depc_tmp/ledger.bad"; then
    case $bad in
      version*) depc_err "the ledger $depc_lg_file was written by another depc version (it starts with '${bad#*"$depc_tab"}'); nothing was changed (deploy with that version, or move the file away to deploy without removing anything)" ;;
      *) depc_err "the ledger $depc_lg_file is damaged (${bad#*"$depc_tab"}); nothing was changed (move it away to deploy without removing anything)" ;;
    esac
    return 1
  elif [ "$rc" != 0 ]; then
    depc_fail "cannot read the ledger $depc_lg_file" "$depc_tmp/err"
    depc_err "$depc_error"
    return 1
  fi
  read -r depc_lg_usame depc_lg_fsame depc_lg_inplace depc_lg_nrm depc_lg_hasold <"$depc_tmp/ledger.status"
  if [ "$depc_lg_hasold" = 0 ]; then
    # An apply logged without a ledger: a depc before ledgers (or a deleted ledger).
    if [ -f "$depc_state_dir/runs.log" ] && awk '$3 == "apply" { found = 1; exit } END { exit !found }' "$depc_state_dir/runs.log" 2>/dev/null; then
      depc_warn "no ledger in $depc_state_dir yet (its runs were made by an older depc, or it was deleted): nothing that left the model is removed by this run; from now on depc keeps track"
    elif [ "$depc_lg_inplace" -gt 0 ]; then
      # Paths that merely exist (/etc, /srv, a stock /etc/motd) say nothing;
      # files already holding exactly this bundle's content say depc was here.
      depc_lg_inplace=$(depc_expect | awk -F '\t' -v todo="$depc_todo" '$2 == "f" && index(todo, " " $1 " ") == 0 { n++ } END { print n + 0 }')
      if [ "${depc_lg_inplace:-0}" -gt 0 ]; then
        depc_warn "the state directory $depc_state_dir is new, but $depc_lg_inplace of this bundle's files are already in place with their exact content: if it was lost, what earlier runs put on this host and the model no longer declares is not removed (depc does not guess); from now on depc keeps track"
      fi
    fi
  fi
  if [ "$depc_mode" = apply ] && [ "$depc_lg_usame" != 1 ]; then
    depc_ledger_put "$depc_tmp/ledger.union" || return 1
  fi
  return 0
}

# depc_ledger_put FILE: FILE becomes the ledger (copy, rename).
depc_ledger_put() {
  if ! cat "$1" 2>"$depc_tmp/err" >"$depc_lg_file.new" ||
    ! mv -f "$depc_lg_file.new" "$depc_lg_file" 2>>"$depc_tmp/err"; then
    depc_fail "cannot write the ledger $depc_lg_file" "$depc_tmp/err"
    depc_err "$depc_error"
    return 1
  fi
  return 0
}

# depc_ledger_drop ENTRY: the line ENTRY leaves the ledger (awk, rename).
depc_ledger_drop() {
  printf '%s\n' "$1" >"$depc_tmp/drop"
  if ! awk '
    FILENAME == ARGV[1] { drop = $0; next }
    FNR == 1 { print; next }
    /^depc-ledger-end / { print "depc-ledger-end " (n + 0); next }
    $0 == drop && !done { done = 1; next }
    { n++; print }
  ' "$depc_tmp/drop" "$depc_lg_file" 2>"$depc_tmp/err" >"$depc_lg_file.new" ||
    ! mv -f "$depc_lg_file.new" "$depc_lg_file" 2>>"$depc_tmp/err"; then
    depc_fail "cannot update the ledger $depc_lg_file" "$depc_tmp/err"
    return 1
  fi
  return 0
}

# depc_ledger_unescape FIELD: its value into depc_dec. Builtins only.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_ledger_unescape() {
  local s out c
  s=$1
  case $s in
    *\\*) ;;
    *)
      depc_dec=$s
      return 0
      ;;
  esac
  out=
  while :; do
    case $s in
      *\\*) ;;
      *) break ;;
    esac
    out=$out${s%%\\*}
    s=${s#*\\}
    c=${s%"${s#?}"}
    s=${s#?}
    case $c in
      t) out=$out$depc_tab ;;
      n) out=$out$depc_nl ;;
      *) out=$out$c ;;
    esac
  done
  depc_dec=$out$s
}

# depc_ledger_remove LIST: run the removals of LIST (removals.early: before
# the resources; removals: after them), each line "ACTION<TAB>ENTRY". One
# line per removal: removed / would remove (with the diff of a file's
# content) / not removed (report-only) / left (with the reason, a warning
# when something is in the way) / kept (keep: true). Apply drops each entry
# from the ledger after it is done; a failed removal fails the run and stays
# in the ledger, so the next run tries again.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_ledger_remove() {
  local line entry rest field action claim fn saved status
  [ "${depc_lg_nrm:-0}" -gt 0 ] && [ -s "$depc_tmp/$1" ] || return 0
  while IFS= read -r line; do
    action=${line%%"$depc_tab"*}
    entry=${line#*"$depc_tab"}
    rest=$entry
    set --
    while :; do
      # (assigned first: posh misreads nested quotes inside "${...}")
      field=${rest%%"$depc_tab"*}
      depc_ledger_unescape "$field"
      set -- "$@" "$depc_dec"
      case $rest in
        *"$depc_tab"*) rest=${rest#*"$depc_tab"} ;;
        *) break ;;
      esac
    done
    depc_kind=$1 depc_key=$2 claim=$3 depc_rm_flags=$4 fn=$5
    shift 5
    case $action in
      keep)
        printf 'kept          %s %s (keep: true)\n' "$depc_kind" "$depc_key"
        printf '%s\t%s\t%s\tkept\t\t\n' - "$depc_kind" "$depc_key" >>"$depc_tmp/log"
        continue
        ;;
      claimed) continue ;;
    esac
    [ "$fn" != - ] || continue
    if ! command -v "$fn" >/dev/null 2>&1; then
      depc_error="this bundle cannot remove it: no function $fn (a ledger from another depc?)"
      fn=false
    fi
    depc_change_names=
    depc_change_text=
    depc_error=
    depc_has_diff=0
    depc_left=
    depc_left_warn=0
    saved=$depc_mode
    [ "${DEPC_REMOVALS:-remove}" != report ] || depc_mode=check
    "$fn" "$@" </dev/null
    status=$?
    depc_mode=$saved
    if [ "$status" != 0 ]; then
      depc_drop_inflight
      [ -n "$depc_error" ] || depc_error="failed (no reason given)"
      depc_n_rm_failed=$((depc_n_rm_failed + 1))
      depc_ledger_tail
      printf 'failed        %s %s: %s\n' "$depc_kind" "$depc_key" "$depc_error"
      depc_err "$depc_kind $depc_key: $depc_error"
      printf '%s\t%s\t%s\tfailed\tremove\t%s\n' - "$depc_kind" "$depc_key" "$depc_error" >>"$depc_tmp/log"
      [ "$depc_mode" != apply ] || depc_finish
      continue
    fi
    if [ -n "$depc_left" ]; then
      status=left
      printf 'left          %s %s (%s)\n' "$depc_kind" "$depc_key" "$depc_left"
      [ "$depc_left_warn" = 0 ] || depc_warn "$depc_kind $depc_key left in place: $depc_left"
    elif [ -z "$depc_change_names" ]; then
      status=
    elif [ "${DEPC_REMOVALS:-remove}" = report ]; then
      status='not removed'
      depc_n_not_removed=$((depc_n_not_removed + 1))
      printf 'not removed   %s %s (left the model; removal is report-only in environment %s)\n' "$depc_kind" "$depc_key" "$DEPC_ENV"
    elif [ "$depc_mode" = check ]; then
      status='would remove'
      depc_n_would_remove=$((depc_n_would_remove + 1))
      printf 'would remove  %s %s%s\n' "$depc_kind" "$depc_key" "${depc_change_text:+ ($depc_change_text)}"
      [ "$depc_has_diff" = 0 ] || cat "$depc_tmp/diff"
    else
      status=removed
      depc_n_removed=$((depc_n_removed + 1))
      printf 'removed       %s %s%s\n' "$depc_kind" "$depc_key" "${depc_change_text:+ ($depc_change_text)}"
    fi
    [ "$claim" = - ] || depc_rm_gone=$depc_rm_gone$claim$depc_nl
    [ -z "$status" ] || printf '%s\t%s\t%s\t%s\t%s\t\n' - "$depc_kind" "$depc_key" "$status" "$depc_change_names" >>"$depc_tmp/log"
    depc_ledger_tail
    if [ "$depc_mode" = apply ] && [ "${DEPC_REMOVALS:-remove}" != report ] && ! depc_ledger_drop "$entry"; then
      depc_n_rm_failed=$((depc_n_rm_failed + 1))
      depc_ledger_tail
      depc_err "$depc_error"
      depc_finish
    fi
  done <"$depc_tmp/$1"
  return 0
}

# depc_ledger_finish: apply writes the final ledger when it differs from the
# one written at the start (only when old entries left the model).
depc_ledger_finish() {
  [ "$depc_mode" = apply ] && [ "${depc_lg_fsame:-1}" != 1 ] && [ "${depc_lg_nrm:-0}" -gt 0 ] || return 0
  depc_ledger_put "$depc_tmp/ledger.final" || exit 1
}

# depc_ledger_tail: depc_rm_tail, the summary's removal counts.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_ledger_tail() {
  depc_rm_tail=
  [ "$depc_n_removed" = 0 ] || depc_rm_tail="$depc_rm_tail, $depc_n_removed removed"
  [ "$depc_n_would_remove" = 0 ] || depc_rm_tail="$depc_rm_tail, $depc_n_would_remove would remove"
  [ "$depc_n_not_removed" = 0 ] || depc_rm_tail="$depc_rm_tail, $depc_n_not_removed not removed (report-only)"
  [ "$depc_n_rm_failed" = 0 ] || depc_rm_tail="$depc_rm_tail, $depc_n_rm_failed removal failed"
}

# depc_remove_guard PATH: fails (depc_left set) when a link is on the way to
# PATH: a removal never follows one out of the managed path.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_remove_guard() {
  local dir phys
  dir=${1%/*}
  [ -n "$dir" ] || dir=/
  phys=$(cd -P -- "$dir" 2>/dev/null && pwd -P) || return 1
  [ "$phys" != "$dir" ] || return 0
  depc_left="a symbolic link is on the way: $dir is $phys"
  depc_left_warn=1
  return 1
}

# depc_remove_tree_ok PATH: fails (depc_left set) when the bundle declares PATH
# or a path below it.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_remove_tree_ok() {
  local inside
  [ -f "$depc_tmp/claims" ] || return 0
  # The path travels in a file: awk -v would interpret backslashes in it.
  printf '%s\n' "$1" >"$depc_tmp/under"
  inside=$(awk 'FILENAME == ARGV[1] { p = $0; next } $0 == p || index($0, p "/") == 1 { print; exit }' "$depc_tmp/under" "$depc_tmp/claims")
  [ -n "$inside" ] || return 0
  depc_left="the model declares $inside"
  depc_left_warn=1
  return 1
}

# depc_remove_contents DIR: depc_rm_count entries, up to 5 names in
# depc_rm_names; what this run removed (--check: would) does not count.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_remove_contents() {
  local f
  depc_rm_names=
  depc_rm_count=0
  for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    case $depc_rm_gone in
      *"$depc_nl$f$depc_nl"*) continue ;;
    esac
    depc_rm_count=$((depc_rm_count + 1))
    [ "$depc_rm_count" -gt 5 ] || depc_rm_names=${depc_rm_names:+$depc_rm_names, }${f##*/}
  done
  [ "$depc_rm_count" -le 5 ] || depc_rm_names="$depc_rm_names, ... ($depc_rm_count entries)"
}
