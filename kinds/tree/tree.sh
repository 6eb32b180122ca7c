# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: a directory kept identical to a source shipped in the bundle.

# depc_tree PATH OWNER GROUP MANIFEST CONTENTS...: PATH is a directory
# holding exactly the entries of the function MANIFEST's output (lines "x<TAB>ERE" of
# excluded paths, then "d<TAB>MODE<TAB>-<TAB>REL" and
# "f<TAB>MODE<TAB>SHA256<TAB>REL", sorted, REL "." for PATH itself); the
# Nth file's bytes are the output of the Nth function of CONTENTS. OWNER and GROUP
# ('' = unmanaged) apply to every entry. Entries below PATH that are not in
# the manifest are removed, except excluded ones. The host side is read in
# a few processes whatever the size (depc_tree_scan); changed files are
# staged and committed together (runtime/stage.sh): each appears whole, with
# its mode. --check lists what would change, one line per entry (capped).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_tree() {
  local p owner group plan line rest tag a b c rm_list dir_list mode_list own_list summary queued
  p=$1 owner=$2 group=$3
  if [ -L "$p" ]; then
    depc_error="$p exists and is a symbolic link"
    return 1
  elif [ -e "$p" ] && [ ! -d "$p" ]; then
    depc_error="$p exists and is not a directory"
    return 1
  fi
  if ! { "$4" >"$depc_tmp/tree.manifest"; } 2>/dev/null; then
    depc_tmp_cause
    depc_error="cannot write to the temporary directory $depc_tmp${depc_cause:+: $depc_cause}"
    return 1
  fi
  depc_tree_scan "$p" || return 1
  plan=$(depc_tree_plan "$p" "$owner" "$group") || {
    depc_error="cannot compare $p with its manifest (awk failed)"
    return 1
  }
  summary=${plan##*"$depc_nl"}
  depc_tree_changes "$summary"
  [ -n "$depc_change_names" ] || return 0
  if [ "$depc_mode" = check ]; then
    depc_tree_check_lines "$plan"
    return 0
  fi
  shift 4
  rm_list=
  dir_list=
  mode_list=
  own_list=
  rest=$plan$depc_nl
  while [ -n "$rest" ]; do
    line=${rest%%"$depc_nl"*}
    rest=${rest#"$line$depc_nl"}
    tag=${line%%"$depc_tab"*}
    line=${line#*"$depc_tab"}
    case $tag in
      R) rm_list=$rm_list$line$depc_nl ;;
      D) dir_list=$dir_list${line#*"$depc_tab"}$depc_nl ;;
      O) own_list=$own_list$line$depc_nl ;;
      M) mode_list=$mode_list$line$depc_nl ;;
    esac
  done
  # Removals first (a file may take the name of a removed directory), then
  # the new directories, parents first.
  depc_lines_run "cannot remove from $p" "$rm_list" rm -rf || return 1
  depc_lines_run "cannot create directories in $p" "$dir_list" mkdir -m 0755 || return 1
  # The files: staged, verified and renamed in a few processes for all.
  queued=0
  rest=$plan$depc_nl
  while [ -n "$rest" ]; do
    line=${rest%%"$depc_nl"*}
    rest=${rest#"$line$depc_nl"}
    case $line in
      W"$depc_tab"*) ;;
      *) continue ;;
    esac
    line=${line#W"$depc_tab"}
    a=${line%%"$depc_tab"*}
    line=${line#*"$depc_tab"}
    b=${line%%"$depc_tab"*}
    line=${line#*"$depc_tab"}
    c=${line%%"$depc_tab"*}
    line=${line#*"$depc_tab"}
    depc_tree_stage "$line" "$a" "$b" "$c" "$owner" "$group" "$@" || return 1
    queued=$((queued + 1))
  done
  depc_stage_commit depc_tree_hook
  if [ "$depc_stage_good" -lt "$queued" ]; then
    eval "line=\$depcb_p_$((depc_stage_good + 1))"
    depc_error="cannot write $line: its content, digest, attributes or rename failed (the bundle is corrupt, or the disk is full); files before it are in place"
    return 1
  fi
  depc_tree_modes "$mode_list" || return 1
  # "USER:" would also set USER's login group: only what is managed.
  if [ -n "$owner" ] && [ -n "$group" ]; then
    depc_lines_run "cannot change owner and group in $p" "$own_list" chown "$owner:$group" || return 1
  elif [ -n "$owner" ]; then
    depc_lines_run "cannot change owner in $p" "$own_list" chown "$owner" || return 1
  elif [ -n "$group" ]; then
    depc_lines_run "cannot change group in $p" "$own_list" chgrp "$group" || return 1
  fi
  return 0
}

# depc_tree_stage PATH INDEX MODE SHA256 OWNER GROUP CONTENTS...: write the
# output of the INDEXth function of CONTENTS into the staging directory next to PATH and
# queue it (depc_stage_queue). Returns 1 with depc_error set.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_tree_stage() {
  local path index mode sha owner group fn dir
  path=$1 index=$2 mode=$3 sha=$4 owner=$5 group=$6
  shift 6
  eval "fn=\${$index}"
  dir=${path%/*}
  if ! depc_stage_dir "$dir"; then
    depc_error="cannot create a staging directory in $dir"
    return 1
  fi
  depc_write_content "$fn" "$depc_stage/${path##*/}" "$path" || return 1
  depc_stage_queue 0 "$path" "$sha" "$mode" "$owner" "$group"
}

# depc_tree_hook K: nothing to do between a tree file's attributes and its
# rename (the tree's reactions were recorded by depc_step).
depc_tree_hook() {
  return 0
}

# depc_tree_modes LIST: chmod the entries of LIST ("MODE<TAB>PATH" lines),
# one call per mode.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_tree_modes() {
  local rest line mode paths seen
  seen=$depc_nl
  rest=$1
  while [ -n "$rest" ]; do
    line=${rest%%"$depc_nl"*}
    rest=${rest#"$line$depc_nl"}
    mode=${line%%"$depc_tab"*}
    case $seen in
      *"$depc_nl$mode$depc_nl"*) continue ;;
    esac
    seen=$seen$mode$depc_nl
    paths=$(printf '%s' "$1" | awk -F '\t' -v m="$mode" '$1 == m { print substr($0, length(m) + 2) }')
    depc_lines_run "cannot change modes to $mode" "$paths$depc_nl" chmod "$mode" || return 1
  done
  return 0
}

# depc_tree_scan PATH: what is below PATH, in a few processes whatever its
# size: "TYPE<TAB>MODE<TAB>UID<TAB>GID<TAB>USER<TAB>GROUP<TAB>PATH" lines
# (find + stat) into $depc_tmp/tree.stat and the sha256 lines of its regular
# files into $depc_tmp/tree.sha. In apply mode, entries whose name holds a
# newline (never in a manifest) are removed first: they would break the
# line-oriented lists. Returns 1 with depc_error set.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_tree_scan() {
  local t root
  t=$depc_tab
  root=$1
  : >"$depc_tmp/tree.stat"
  : >"$depc_tmp/tree.sha"
  [ -d "$1" ] || return 0
  depc_need_cmd find || {
    depc_error="cannot list $1: no 'find' on host $DEPC_HOST"
    return 1
  }
  if [ "$depc_mode" = apply ]; then
    find "$1" -name "*$depc_nl*" -prune -exec rm -rf {} + 2>/dev/null
  fi
  if [ "$depc_stat_flavor" = gnu ]; then
    set -- find "$1" -exec stat -c "%F$t%a$t%u$t%g$t%U$t%G$t%n" {} +
  else
    set -- find "$1" -exec stat -f "%HT$t%Lp$t%u$t%g$t%Su$t%Sg$t%N" {} +
  fi
  if ! "$@" >"$depc_tmp/tree.stat" 2>"$depc_tmp/err"; then
    depc_fail "cannot list $root" "$depc_tmp/err"
    return 1
  fi
  case $depc_sha_tool in
    sha256sum) set -- sha256sum ;;
    shasum) set -- shasum -a 256 ;;
    sha256) set -- sha256 -r ;;
    *) set -- openssl dgst -sha256 -r ;;
  esac
  if ! find "$root" -type f -exec "$@" {} + >"$depc_tmp/tree.sha" 2>"$depc_tmp/err"; then
    depc_fail "cannot compute the sha256 of the files below $root" "$depc_tmp/err"
    return 1
  fi
  return 0
}

# depc_tree_plan PATH OWNER GROUP: ONE awk process joining the manifest with
# the scan. Prints, TAB-separated: "R PATH" (remove: not in the manifest, or
# of the wrong type), "D MODE PATH" (create a directory), "W N MODE SHA256
# PATH" (write the Nth file), "M MODE PATH" (mode only), "O PATH" (owner or
# group only); the display lines "+ REL", "~ REL", "- REL", "m REL OLD NEW",
# "o REL" (control characters of names as '?'); last "S ADDED CHANGED
# REMOVED MODES OWNERS CREATED".
# shellcheck disable=SC3043 # local is a deliberate extension
depc_tree_plan() {
  # Data travels in files: awk -v would interpret backslashes.
  printf '%s\n%s\n%s\n' "$1" "$2" "$3" >"$depc_tmp/tree.args"
  awk -F '\t' '
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
    function relof(p) {
      if (p == root) return "."
      if (substr(p, 1, length(root) + 1) == root "/") return substr(p, length(root) + 2)
      return ""
    }
    function excluded(rel,   i) {
      for (i = 1; i <= nx; i++) if (rel ~ xre[i]) return 1
      return 0
    }
    function shown(rel) {
      gsub(/[[:cntrl:]]/, "?", rel)
      return rel
    }
    function removed_above(rel,   q) {
      q = rel
      while (sub(/\/[^\/]*$/, "", q)) if (q in gone) return 1
      return 0
    }
    # Modes as digit strings without leading zeros: busybox awk reads "0755" as octal.
    function nz(s) {
      sub(/^0+/, "", s)
      return s == "" ? "0" : s
    }
    function wrong_owner(rel) {
      return (owner != "" && owner != su[rel] && owner != sun[rel]) || (group != "" && group != sg[rel] && group != sgn[rel])
    }
    FILENAME == ARGV[1] {
      if (FNR == 1) root = $0
      else if (FNR == 2) owner = $0
      else if (FNR == 3) group = $0
      next
    }
    FILENAME == ARGV[2] {
      if ($1 == "x") { xre[++nx] = $2; next }
      if (NF < 4) next
      rel = $4
      mt[rel] = $1; mm[rel] = $2; mh[rel] = $3
      if ($1 == "f") mi[rel] = ++nf
      order[++nm] = rel
      next
    }
    FILENAME == ARGV[3] {
      if (NF < 7) next
      t = tolower($1)
      if (t ~ /^regular/) t = "f"
      else if (t ~ /^directory/) t = "d"
      else t = "o"
      p = $7
      for (i = 8; i <= NF; i++) p = p "\t" $i
      rel = relof(p)
      if (rel == "") next
      st[rel] = t; sm[rel] = nz($2); su[rel] = $3; sg[rel] = $4; sun[rel] = $5; sgn[rel] = $6
      sorder[++ns] = rel
      next
    }
    FILENAME == ARGV[4] {
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
      rel = relof(p)
      if (rel != "") sha[rel] = h
      next
    }
    END {
      # What the manifest lacks, in byte order (find lists in directory order).
      for (k = 1; k <= ns; k++) {
        rel = sorder[k]
        if (rel in mt || excluded(rel)) continue
        for (i = ++nr; i > 1 && cand[i - 1] > rel; i--) cand[i] = cand[i - 1]
        cand[i] = rel
      }
      for (k = 1; k <= nr; k++) {
        rel = cand[k]
        if (removed_above(rel)) continue
        gone[rel] = 1
        print "R\t" root "/" rel
        print "-\t" shown(rel) (st[rel] == "d" ? "/" : "")
        nrem++
      }
      for (k = 1; k <= nm; k++) {
        rel = order[k]
        abs = rel == "." ? root : root "/" rel
        have = rel in st ? st[rel] : ""
        replaced = 0
        if (have != "" && have != mt[rel]) {
          print "R\t" abs
          have = ""
          replaced = 1
        }
        if (mt[rel] == "d") {
          if (have == "") {
            print "D\t" mm[rel] "\t" abs
            if (owner != "" || group != "") print "O\t" abs
            if (rel == ".") created = 1
            else { print (replaced ? "~" : "+") "\t" shown(rel) "/"; if (replaced) nchg++; else nadd++ }
            continue
          }
        } else if (have == "" || sha[rel] != mh[rel]) {
          print "W\t" mi[rel] "\t" mm[rel] "\t" mh[rel] "\t" abs
          if (have == "" && !replaced) { print "+\t" shown(rel); nadd++ }
          else { print "~\t" shown(rel); nchg++ }
          continue
        }
        if (sm[rel] != nz(mm[rel])) {
          print "M\t" mm[rel] "\t" abs
          print "m\t" shown(rel) "\t" sm[rel] "\t" mm[rel]
          nmode++
        }
        if (wrong_owner(rel)) {
          print "O\t" abs
          print "o\t" shown(rel)
          nown++
        }
      }
      print "S\t" nadd + 0 "\t" nchg + 0 "\t" nrem + 0 "\t" nmode + 0 "\t" nown + 0 "\t" created + 0
    }
  ' "$depc_tmp/tree.args" "$depc_tmp/tree.manifest" "$depc_tmp/tree.stat" "$depc_tmp/tree.sha"
}

# depc_tree_changes SUMMARY: the changes of the plan's "S" line, recorded
# with depc_change ("created, 12 added, 1 changed, 3 removed, 2 mode,
# 1 owner": counts of entries).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_tree_changes() {
  local s added changed removed modes owners created
  s=${1#S"$depc_tab"}
  added=${s%%"$depc_tab"*}
  s=${s#*"$depc_tab"}
  changed=${s%%"$depc_tab"*}
  s=${s#*"$depc_tab"}
  removed=${s%%"$depc_tab"*}
  s=${s#*"$depc_tab"}
  modes=${s%%"$depc_tab"*}
  s=${s#*"$depc_tab"}
  owners=${s%%"$depc_tab"*}
  created=${s#*"$depc_tab"}
  [ "$created" = 0 ] || depc_change created created
  [ "$added" = 0 ] || depc_change added "$added added"
  [ "$changed" = 0 ] || depc_change content "$changed changed"
  [ "$removed" = 0 ] || depc_change removed "$removed removed"
  [ "$modes" = 0 ] || depc_change mode "$modes mode"
  [ "$owners" = 0 ] || depc_change owner "$owners owner"
  return 0
}

# depc_tree_check_lines PLAN: --check's lines for the plan's display lines,
# into $depc_tmp/diff: "  added    REL", "  changed  REL", "  removed  REL",
# "  mode     REL OLD -> NEW", "  owner    REL"; at most 50, then
# "  … and N more".
depc_tree_check_lines() {
  printf '%s\n' "$1" | awk -F '\t' '
    $1 == "+" { w = "added   " } $1 == "~" { w = "changed " } $1 == "-" { w = "removed " }
    $1 == "m" { w = "mode    " } $1 == "o" { w = "owner   " }
    $1 !~ /^[-+~mo]$/ { next }
    {
      n++
      if (n > 50) next
      if ($1 == "m") printf "  %s %s %s -> %s\n", w, $2, substr("000" $3, length($3)), $4
      else printf "  %s %s\n", w, $2
    }
    END { if (n > 50) printf "  \342\200\246 and %d more\n", n - 50 }
  ' >"$depc_tmp/diff"
  depc_has_diff=1
}

# depc_lines_run WHAT LIST CMD [ARG...]: CMD ARG... with each line of LIST
# (newline-terminated) as one more argument, per 256; nothing when LIST is
# empty. On failure depc_fail WHAT with CMD's stderr. Returns its success.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_lines_run() {
  local what list line w1 w2 w3 nw k
  what=$1 list=$2 w1=$3 w2=${4:-} w3=${5:-}
  nw=$(($# - 2))
  set --
  k=0
  while [ -n "$list" ]; do
    line=${list%%"$depc_nl"*}
    list=${list#"$line$depc_nl"}
    set -- "$@" "$line"
    k=$((k + 1))
    if [ "$k" -ge 256 ] || [ -z "$list" ]; then
      case $nw in
        1) "$w1" "$@" ;;
        2) "$w1" "$w2" "$@" ;;
        *) "$w1" "$w2" "$w3" "$@" ;;
      esac 2>"$depc_tmp/err" || {
        depc_fail "$what" "$depc_tmp/err"
        return 1
      }
      set --
      k=0
    fi
  done
  return 0
}

# depc_tree_remove PATH: the whole tree is removed (ledger.sh) when depc
# created PATH (flag "created"); else it is left as it is.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_tree_remove() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then
    depc_left="it is no longer a directory"
    depc_left_warn=1
    return 0
  fi
  [ -d "$1" ] || return 0
  case ,$depc_rm_flags, in
    *,created,*) ;;
    *)
      depc_left="it existed before depc managed it"
      return 0
      ;;
  esac
  depc_remove_guard "$1" || return 0
  depc_remove_tree_ok "$1" || return 0
  depc_change removed ''
  [ "$depc_mode" = apply ] || return 0
  depc_try "cannot remove $1" rm -rf "$1"
}
