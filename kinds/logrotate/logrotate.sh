# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: logrotate entries. All Logrotate entries of a host live in
# one file, /etc/logrotate.d/depc-ENV (ENV: the environment's name), that
# depc owns; the host's own logrotate run reads it. Each entry starts with
# its label line:
#
#   # depc logrotate NAME
#   /var/log/app/*.log {
#       ...
#   }

# depc_logrotate ENTRIES...: (collected: all Logrotate entries of the host
# in one call; ENTRIES is NAME CONTENTFN per entry, ordinal 1 first) each
# entry in the file is CONTENTFN's text: added (created), rewritten
# (content) or left; entries of names not here (left the model) are left
# for their own removal. A file that changes is first checked with
# `logrotate -d` (config errors fail every entry, nothing is written), then
# written like a File (0644, root, atomically). --check attaches the file's
# diff to the first entry that changes.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_logrotate() {
  local f n st first
  f=/etc/logrotate.d/depc-$DEPC_ENV
  if ! command -v logrotate >/dev/null 2>&1; then
    depc_error="'logrotate' not found on host $DEPC_HOST (PATH=$PATH); install logrotate"
    return 1
  fi
  depc_logrotate_read "$f" || return 1
  : >"$depc_tmp/lr.want"
  while [ $# -ge 2 ]; do
    printf '# depc logrotate %s\n' "$1" >>"$depc_tmp/lr.want"
    depc_write_content "$2" "$depc_tmp/lr.entry" "$f" || return 1
    cat "$depc_tmp/lr.entry" >>"$depc_tmp/lr.want"
    shift 2
  done
  depc_logrotate_merge '' || return 1
  n=0
  first=
  while IFS= read -r st; do
    n=$((n + 1))
    case $st in
      created) depc_member_change "$n" created "added to $f" ;;
      content) depc_member_change "$n" content "changed in $f" ;;
      *) continue ;;
    esac
    [ -n "$first" ] || first=$n
  done <"$depc_tmp/lr.status"
  diff "$depc_tmp/lr.old" "$depc_tmp/lr.new" >/dev/null 2>&1 && return 0
  if [ -z "$first" ]; then
    # Only the header changed (a hand edit, another depc version).
    first=1
    depc_member_change 1 file "$f rewritten"
  fi
  depc_logrotate_validate "$f" || return 1
  if [ "$depc_mode" = check ]; then
    depc_diff "$depc_tmp/lr.old" "$depc_tmp/lr.new" "$f" - -
    depc_member_diff "$first" "$depc_tmp/diff"
    return 0
  fi
  depc_logrotate_write "$f"
}

# depc_logrotate_read FILE: FILE into $depc_tmp/lr.old (empty when missing).
# Something else than a regular file there fails.
depc_logrotate_read() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -f "$1" ]; }; then
    depc_error="$1 exists and is not a regular file"
    return 1
  fi
  if [ ! -f "$1" ]; then
    : >"$depc_tmp/lr.old"
    return 0
  fi
  depc_try "cannot read $1" cat "$1" >"$depc_tmp/lr.old"
}

# depc_logrotate_merge DROP: one awk over $depc_tmp/lr.want and lr.old (both
# made of entries, each from its "# depc logrotate NAME" line to the next)
# into lr.new: a header line, the old entries in place (rewritten when
# wanted, DROP's left out), new ones appended; empty when no entry is left.
# lr.status: a line per wanted entry (created, content, ok), then "dropped"
# when DROP was there.
depc_logrotate_merge() {
  awk -v env="$DEPC_ENV" -v drop="$1" -v status="$depc_tmp/lr.status" '
    function add(kind, name, text) {
      if (kind == "w") { if (!(name in want)) { nw++; wname[nw] = name }; want[name] = text }
      else { if (!(name in old)) { no++; oname[no] = name }; old[name] = text }
    }
    FNR == 1 { if (cur != "") add(kind, cur, text); cur = ""; text = ""; kind = (FILENAME == ARGV[1]) ? "w" : "o" }
    /^# depc logrotate / {
      if (cur != "") add(kind, cur, text)
      cur = substr($0, 18); text = ""
      next
    }
    cur != "" { text = text $0 "\n" }
    END {
      if (cur != "") add(kind, cur, text)
      printf "" > status
      for (j = 1; j <= nw; j++) {
        nm = wname[j]
        print (!(nm in old) ? "created" : old[nm] == want[nm] ? "ok" : "content") > status
      }
      c = 0
      for (j = 1; j <= no; j++) {
        nm = oname[j]
        if (nm == drop) { print "dropped" > status; continue }
        c++; nname[c] = nm; ntext[c] = (nm in want) ? want[nm] : old[nm]
      }
      for (j = 1; j <= nw; j++) if (!(wname[j] in old)) { c++; nname[c] = wname[j]; ntext[c] = want[wname[j]] }
      if (c == 0) exit 0
      print "# Written by depc for environment " env ": one entry per Logrotate of the model. Edits are overwritten."
      for (j = 1; j <= c; j++) printf "# depc logrotate %s\n%s", nname[j], ntext[j]
    }' "$depc_tmp/lr.want" "$depc_tmp/lr.old" >"$depc_tmp/lr.new" 2>"$depc_tmp/err" && return 0
  depc_fail "cannot merge the logrotate entries (awk)" "$depc_tmp/err"
}

# depc_logrotate_validate FILE: `logrotate -d` reads $depc_tmp/lr.new; its
# config errors (lines "error: CONFIG:LINE ...", e.g. an unknown option or
# su user) fail with those lines, naming FILE. Missing logs are no error.
depc_logrotate_validate() {
  chmod 0644 "$depc_tmp/lr.new" 2>/dev/null
  logrotate -d -s "$depc_tmp/lr.state" "$depc_tmp/lr.new" >/dev/null 2>"$depc_tmp/lr.check"
  awk -v tmp="$depc_tmp/lr.new" -v f="$1" 'index($0, "error: " tmp ":") == 1 { print "error: " f substr($0, length(tmp) + 8) }' \
    "$depc_tmp/lr.check" >"$depc_tmp/err" 2>/dev/null
  [ -s "$depc_tmp/err" ] || return 0
  depc_fail "logrotate rejects the new $1 (logrotate -d)" "$depc_tmp/err"
}

# depc_logrotate_write FILE: (apply) $depc_tmp/lr.new becomes FILE, like a
# File (0644, root, temp file and rename); an empty one removes FILE. The
# caller's recorded changes are kept as they were (depc_file records its own).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_logrotate_write() {
  local names text
  if [ ! -s "$depc_tmp/lr.new" ]; then
    depc_try "cannot remove $1" rm -f "$1"
    return
  fi
  depc_sha256_of "$depc_tmp/lr.new" || return 1
  names=$depc_change_names text=$depc_change_text
  depc_file "$1" 0644 0 0 "$depc_digest" depc_logrotate_content || return 1
  depc_change_names=$names depc_change_text=$text
  return 0
}

# depc_logrotate_content: the new file's bytes, for depc_file.
depc_logrotate_content() {
  cat "$depc_tmp/lr.new"
}

# depc_logrotate_remove NAME: (ledger.sh) the entry NAME leaves the file;
# the file goes with its last entry. --check shows the diff. Not there: nothing.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_logrotate_remove() {
  local f
  f=/etc/logrotate.d/depc-$DEPC_ENV
  [ -f "$f" ] || return 0
  depc_logrotate_read "$f" || return 1
  : >"$depc_tmp/lr.want"
  depc_logrotate_merge "$1" || return 1
  grep -q '^dropped$' "$depc_tmp/lr.status" || return 0
  depc_change removed "removed from $f"
  if [ "$depc_mode" = check ]; then
    depc_diff "$depc_tmp/lr.old" "$depc_tmp/lr.new" "$f" - -
    return 0
  fi
  depc_logrotate_write "$f"
}
