# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: Package, a collected kind (runtime/collect.sh): every Package
# of the host is one call of depc_package. Debian/Ubuntu: one dpkg-query for
# all, one apt-get install for the missing ones. Alpine: one apk info, one
# apk add. Tools beyond the runtime's list: dpkg-query, dpkg, apt-get,
# apt-cache (--check) / apk.
#
# STATE/packages names the packages depc installed (written before the
# install runs, so a run killed during it still knows): a Package that
# leaves the model is removed only when it is named there. A package that was
# on the host before depc installed it is never removed.

# depc_package PACKAGES...: PACKAGES are NAME VERSION pairs (VERSION '' =
# any version); pair N is the group's member N. Reports each member with
# depc_member_change / depc_member_fail. Fails as a whole (every member)
# when the host has neither dpkg-query and apt-get nor apk.
depc_package() {
  if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    depc_package_apt "$@"
  elif command -v apk >/dev/null 2>&1; then
    depc_package_apk "$@"
  else
    depc_error="host $DEPC_HOST has neither dpkg-query and apt-get (Debian, Ubuntu) nor apk (Alpine), so it cannot install packages (PATH=$PATH)"
    return 1
  fi
}

# depc_package_apt PACKAGES...: depc_package on Debian and Ubuntu.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_package_apt() {
  local n word name version names what todo words new rc
  depc_pkg_tool="apt-get install"
  names=$(depc_package_names "$@")
  depc_package_query "$names" || return 1
  todo=
  words=
  new=
  n=0
  while [ $# -ge 2 ]; do
    n=$((n + 1))
    name=$1
    version=$2
    shift 2
    if depc_package_installed "$depc_tmp/pkg.state" "$name"; then
      if [ -z "$version" ] || [ "$version" = "$depc_pkg_version" ]; then continue; fi
      what=upgrade
      dpkg --compare-versions "$version" gt "$depc_pkg_version" 2>/dev/null || what=downgrade
      todo="$todo$n$depc_tab$what$depc_tab$name$depc_tab$depc_pkg_version -> $version$depc_nl"
    else
      new="$new $name"
      todo="$todo$n${depc_tab}install$depc_tab$name$depc_tab$version$depc_nl"
    fi
    words="$words $name${version:+=$version}"
  done
  [ -n "$todo" ] || return 0
  if [ "$depc_mode" = check ]; then
    depc_package_candidates "$new"
    depc_package_report "$todo" candidate
    return 0
  fi
  depc_package_mark "$new" || return 1
  depc_invalidate_facts
  depc_package_apt_install "$words"
  rc=$?
  if [ "$rc" != 0 ]; then
    depc_package_failed "$todo" "apt-get install$words failed (exit status $rc)"
    return 0
  fi
  depc_package_query "$names" || return 1
  depc_package_report "$todo" installed
}

# depc_package_names PACKAGES...: prints the names of the NAME VERSION
# pairs, space-separated (a command substitution; builtins only).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_package_names() {
  local names
  names=
  while [ $# -ge 2 ]; do
    names="$names $1"
    shift 2
  done
  printf '%s\n' "$names"
}

# depc_package_query NAMES: one dpkg-query for NAMES (a space-separated
# list) into $depc_tmp/pkg.state: `BINARYNAME<TAB>NAME<TAB>VERSION<TAB>STATUS`
# lines (STATUS: dpkg's abbreviation, `ii ` installed). Unknown names are no
# error (dpkg-query exits 1 for them); anything worse fails every member.
# shellcheck disable=SC3043,SC2086 # local is a deliberate extension; NAMES split on purpose
depc_package_query() {
  local rc
  set -f
  dpkg-query -W -f '${binary:Package}\t${Package}\t${Version}\t${db:Status-Abbrev}\n' $1 \
    >"$depc_tmp/pkg.state" 2>"$depc_tmp/pkg.err" </dev/null
  rc=$?
  set +f
  [ "$rc" -le 1 ] && return 0
  depc_fail "dpkg-query failed (exit status $rc)" "$depc_tmp/pkg.err"
}

# depc_package_installed FILE NAME: whether dpkg-query's FILE (see
# depc_package_query) shows NAME installed (as NAME or NAME:ARCH); its
# version into depc_pkg_version ('' when not installed). Builtins only.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_package_installed() {
  local bin pkg ver status
  depc_pkg_version=
  while IFS="$depc_tab" read -r bin pkg ver status; do
    [ "$bin" = "$2" ] || [ "$pkg" = "$2" ] || continue
    case $status in
      ii*)
        depc_pkg_version=$ver
        return 0
        ;;
    esac
  done <"$1"
  return 1
}

# depc_package_candidates NAMES: --check: the versions apt would install
# for NAMES, from the package index as it is (one apt-cache policy; no
# index refresh in --check), into $depc_tmp/pkg.cand as `NAME<TAB>VERSION`.
# shellcheck disable=SC3043,SC2086 # local is a deliberate extension; NAMES split on purpose
depc_package_candidates() {
  local line name
  : >"$depc_tmp/pkg.cand"
  [ -n "$1" ] || return 0
  set -f
  apt-cache policy $1 </dev/null 2>/dev/null >"$depc_tmp/pkg.policy"
  set +f
  name=
  while IFS= read -r line; do
    case $line in
      [!\ ]*:) name=${line%:} ;;
      *"Candidate: (none)") ;;
      *Candidate:\ *) printf '%s\t%s\n' "$name" "${line##*Candidate: }" >>"$depc_tmp/pkg.cand" ;;
    esac
  done <"$depc_tmp/pkg.policy"
}

# depc_package_report TODO candidate|installed: one change per member of
# TODO (lines `ORDINAL<TAB>WHAT<TAB>NAME<TAB>DETAIL`): --check says what
# would happen (`install 1.22.1-9`, the index's candidate; `upgrade A -> B`);
# after the install the version dpkg-query now shows (`installed 1.22.1-9`,
# `upgraded A -> B`). A member the install did not bring to its version fails.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_package_report() {
  local line n what name detail cand c cv saved_ifs
  saved_ifs=$IFS
  IFS=$depc_nl
  set -f
  for line in $1; do
    n=${line%%"$depc_tab"*}
    line=${line#*"$depc_tab"}
    what=${line%%"$depc_tab"*}
    line=${line#*"$depc_tab"}
    name=${line%%"$depc_tab"*}
    detail=${line#*"$depc_tab"}
    if [ "$2" = candidate ]; then
      if [ "$what" = install ] && [ -z "$detail" ]; then
        cand=
        while IFS="$depc_tab" read -r c cv; do
          [ "$c" != "$name" ] || cand=$cv
        done <"$depc_tmp/pkg.cand"
        detail=${cand:-"(not in the package index yet)"}
      fi
      depc_member_change "$n" "$what" "$what $detail"
      continue
    fi
    if ! depc_package_is_installed "$name"; then
      depc_member_fail "$n" "$depc_pkg_tool reported success, but $name is not installed"
      continue
    fi
    case $what in
      install) depc_member_change "$n" install "installed $depc_pkg_version" ;;
      *)
        if [ "${detail##* -> }" != "$depc_pkg_version" ]; then
          depc_member_fail "$n" "$depc_pkg_tool reported success, but $name is at version $depc_pkg_version, not ${detail##* -> }"
        else
          depc_member_change "$n" "$what" "${what}d $detail"
        fi
        ;;
    esac
  done
  set +f
  IFS=$saved_ifs
}

# depc_package_failed TODO MESSAGE: the install failed: the first member of
# TODO fails with MESSAGE and the tool's output ($depc_tmp/pkg.out) as lines,
# the others (not installed either) name it.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_package_failed() {
  local line n rest first saved_ifs
  first=
  saved_ifs=$IFS
  IFS=$depc_nl
  set -f
  for line in $1; do
    n=${line%%"$depc_tab"*}
    rest=${line#*"$depc_tab"}
    rest=${rest#*"$depc_tab"}
    if [ -z "$first" ]; then
      first=${rest%%"$depc_tab"*}
      depc_member_fail "$n" "$2" "$depc_tmp/pkg.out"
    else
      depc_member_fail "$n" "not installed: the install of this host's packages failed (see package $first)"
    fi
  done
  set +f
  IFS=$saved_ifs
}

# depc_package_apt_install WORDS: apt-get install WORDS (NAME or
# NAME=VERSION, space-separated), non-interactive, keeping changed config
# files (confdef/confold), without recommends; output in $depc_tmp/pkg.out,
# fds 3-9 closed (a daemon a maintainer script starts must not hold the
# run's output open). When apt cannot find a package or version, or fetch a
# file (a stale index), apt-get update and one more try; when a run killed
# during an install left dpkg interrupted, dpkg --configure -a first.
# Returns apt's status.
# shellcheck disable=SC3043,SC2086 # local is a deliberate extension; WORDS split on purpose
depc_package_apt_install() {
  local rc
  set -f
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --allow-downgrades \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $1 \
    </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
  rc=$?
  # A run killed during an install leaves dpkg interrupted: finish that first.
  if [ "$rc" != 0 ] && awk '/dpkg was interrupted/ { found = 1 } END { exit !found }' "$depc_tmp/pkg.out"; then
    DEBIAN_FRONTEND=noninteractive dpkg --configure -a --force-confdef --force-confold \
      </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --allow-downgrades \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $1 \
      </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
    rc=$?
  fi
  if [ "$rc" != 0 ] && awk '/Unable to locate package|has no installation candidate|^E: Version .* was not found|Failed to fetch|Unable to fetch some archives/ { found = 1 } END { exit !found }' "$depc_tmp/pkg.out"; then
    if ! DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; then
      set +f
      return 100
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --allow-downgrades \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $1 \
      </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
    rc=$?
  fi
  set +f
  return "$rc"
}

# depc_package_is_installed NAME: depc_package_installed or, on Alpine,
# depc_package_apk_installed, on the last query ($depc_tmp/pkg.state).
depc_package_is_installed() {
  if [ "$depc_pkg_tool" = "apk add" ]; then
    depc_package_apk_installed "$depc_tmp/pkg.state" "$1"
  else
    depc_package_installed "$depc_tmp/pkg.state" "$1"
  fi
}

# depc_package_apk PACKAGES...: depc_package on Alpine: one `apk info -v`
# (every installed NAME-VERSION), one `apk add` of the missing ones (NAME or
# NAME=VERSION); when it fails, `apk update` and one more try. --check shows
# a missing package's version only when it is pinned (apk has no candidate
# query every version of it supports).
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_package_apk() {
  local n name version what todo words new rc
  depc_pkg_tool="apk add"
  depc_package_apk_query || return 1
  todo=
  words=
  new=
  n=0
  while [ $# -ge 2 ]; do
    n=$((n + 1))
    name=$1
    version=$2
    shift 2
    if depc_package_apk_installed "$depc_tmp/pkg.state" "$name"; then
      if [ -z "$version" ] || [ "$version" = "$depc_pkg_version" ]; then continue; fi
      what=upgrade
      [ "$(apk version -t "$version" "$depc_pkg_version" 2>/dev/null </dev/null)" = ">" ] || what=downgrade
      todo="$todo$n$depc_tab$what$depc_tab$name$depc_tab$depc_pkg_version -> $version$depc_nl"
    else
      new="$new $name"
      todo="$todo$n${depc_tab}install$depc_tab$name$depc_tab${version:-"(the index's version)"}$depc_nl"
    fi
    words="$words $name${version:+=$version}"
  done
  [ -n "$todo" ] || return 0
  if [ "$depc_mode" = check ]; then
    : >"$depc_tmp/pkg.cand"
    depc_package_report "$todo" candidate
    return 0
  fi
  depc_package_mark "$new" || return 1
  depc_invalidate_facts
  depc_package_apk_add "$words"
  rc=$?
  if [ "$rc" != 0 ]; then
    depc_package_failed "$todo" "apk add$words failed (exit status $rc)"
    return 0
  fi
  depc_package_apk_query || return 1
  depc_package_report "$todo" installed
}

# depc_package_apk_query: `apk info -v` (installed packages, NAME-VERSION a
# line) into $depc_tmp/pkg.state.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_package_apk_query() {
  local rc
  apk info -v </dev/null >"$depc_tmp/pkg.state" 2>"$depc_tmp/pkg.err"
  rc=$?
  [ "$rc" != 0 ] || return 0
  depc_fail "apk info -v failed (exit status $rc)" "$depc_tmp/pkg.err"
}

# depc_package_apk_installed FILE NAME: whether `apk info -v`'s FILE shows
# NAME (a line NAME-VERSION, VERSION like 1.24.0-r6: a package whose name
# extends NAME, nginx-mod-http-..., does not count); its version into
# depc_pkg_version. Builtins only.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_package_apk_installed() {
  local line rest
  depc_pkg_version=
  while IFS= read -r line; do
    case $line in
      "$2"-[0-9]*) ;;
      *) continue ;;
    esac
    rest=${line#"$2"-}
    case $rest in
      *-*-*) ;;
      *-r[0-9]*)
        depc_pkg_version=$rest
        return 0
        ;;
    esac
  done <"$1"
  return 1
}

# depc_package_apk_add WORDS: apk add WORDS, output in $depc_tmp/pkg.out;
# after a failure, apk update and one more try. Returns apk's status.
# shellcheck disable=SC3043,SC2086 # local is a deliberate extension; WORDS split on purpose
depc_package_apk_add() {
  local rc
  set -f
  apk add $1 </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
  rc=$?
  if [ "$rc" != 0 ]; then
    if ! apk update </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; then
      set +f
      return 99
    fi
    apk add $1 </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
    rc=$?
  fi
  set +f
  return "$rc"
}

# depc_package_mark NAMES: apply: add NAMES (space-separated; the packages
# this run installs that were not installed) to STATE/packages, before the
# install runs. Fails every member when it cannot be written.
# shellcheck disable=SC3043,SC2086 # local is a deliberate extension; NAMES split on purpose
depc_package_mark() {
  local name
  [ -n "$1" ] || return 0
  set -f
  for name in $1; do
    printf '%s\n' "$name"
  done 2>"$depc_tmp/err" >>"$depc_state_dir/packages" || {
    set +f
    depc_fail "cannot record the packages depc installs in $depc_state_dir/packages" "$depc_tmp/err"
    return 1
  }
  set +f
  return 0
}

# depc_package_marked NAME: whether STATE/packages names NAME (depc installed it).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_package_marked() {
  local line
  [ -f "$depc_state_dir/packages" ] || return 1
  while IFS= read -r line; do
    [ "$line" != "$1" ] || return 0
  done <"$depc_state_dir/packages"
  return 1
}

# depc_package_unmark NAME: apply: STATE/packages without NAME (awk, rename).
depc_package_unmark() {
  [ "$depc_mode" = apply ] && [ -f "$depc_state_dir/packages" ] || return 0
  printf '%s\n' "$1" >"$depc_tmp/unmark"
  if awk 'FILENAME == ARGV[1] { drop = $0; next } $0 != drop' "$depc_tmp/unmark" "$depc_state_dir/packages" \
    >"$depc_state_dir/packages.new" 2>"$depc_tmp/err" &&
    mv -f "$depc_state_dir/packages.new" "$depc_state_dir/packages" 2>>"$depc_tmp/err"; then
    return 0
  fi
  depc_fail "cannot update $depc_state_dir/packages" "$depc_tmp/err"
}

# depc_package_remove NAME: the Package left the model. Removed (apt-get
# remove, not purge: its config files stay; apk del) only when depc installed
# it (STATE/packages); a package that was on the host before is left. apt:
# left with a warning when removing it would remove other packages too (apt-get
# -s remove shows them). Not installed: nothing to do.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_package_remove() {
  local others line rc
  if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    depc_package_query "$1" || return 1
    if ! depc_package_installed "$depc_tmp/pkg.state" "$1"; then
      depc_package_unmark "$1"
      return
    fi
  elif command -v apk >/dev/null 2>&1; then
    depc_package_apk_query || return 1
    if ! depc_package_apk_installed "$depc_tmp/pkg.state" "$1"; then
      depc_package_unmark "$1"
      return
    fi
  else
    depc_error="host $DEPC_HOST has neither dpkg-query and apt-get (Debian, Ubuntu) nor apk (Alpine), so it cannot remove packages (PATH=$PATH)"
    return 1
  fi
  if ! depc_package_marked "$1"; then
    depc_left="it was on the host before depc installed it: depc removes only the packages it installed"
    return 0
  fi
  if command -v apk >/dev/null 2>&1 && ! command -v apt-get >/dev/null 2>&1; then
    if [ "$depc_mode" = apply ]; then
      apk del "$1" </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
      rc=$?
      [ "$rc" = 0 ] || {
        depc_fail "apk del $1 failed (exit status $rc)" "$depc_tmp/pkg.out"
        return 1
      }
      depc_package_unmark "$1" || return 1
    fi
    depc_change removed 'apk del'
    return 0
  fi
  # What else apt-get would remove (packages that depend on it): never those.
  apt-get -s remove "$1" </dev/null >"$depc_tmp/pkg.sim" 2>&1
  others=
  while IFS= read -r line; do
    case $line in
      "Remv $1 "* | "Remv $1:"*) ;;
      "Remv "*)
        line=${line#Remv }
        others="${others:+$others, }${line%% *}"
        ;;
    esac
  done <"$depc_tmp/pkg.sim"
  if [ -n "$others" ]; then
    depc_left="removing it would also remove packages that depend on it: $others"
    depc_left_warn=1
    return 0
  fi
  if [ "$depc_mode" = apply ]; then
    DEBIAN_FRONTEND=noninteractive apt-get remove -y -q "$1" </dev/null >"$depc_tmp/pkg.out" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
    rc=$?
    [ "$rc" = 0 ] || {
      depc_fail "apt-get remove $1 failed (exit status $rc)" "$depc_tmp/pkg.out"
      return 1
    }
    depc_package_unmark "$1" || return 1
  fi
  depc_change removed 'apt-get remove'
  return 0
}
