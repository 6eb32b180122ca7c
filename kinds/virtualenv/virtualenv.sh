# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: Python virtual environments (`python -m venv` and pip).
#
# What depc records inside a virtualenv PATH:
#   PATH/.depc-python            "VERSION REALPATH[ system-site-packages]": the
#                                base interpreter and how the venv was made,
#                                written once `python -m venv` succeeded
#   PATH/.depc-requirements.txt  pip's input (mode 0600: it may hold index
#                                credentials)
#   PATH/.depc-installed         "DIGEST VERSION REALPATH", written once pip
#                                succeeded; removed before pip changes anything
#   PATH/.depc-pip.log           pip's output of the last install
#   PATH/.depc-making            written before `python -m venv` runs, removed
#                                once it succeeded: a directory that holds it
#                                is an unfinished venv of depc's (a run
#                                interrupted or killed while making it), made
#                                again

# depc_virtualenv PATH PYTHON SYSTEM DIGEST REQFN [PIPOPT...]: PATH is a
# virtualenv made by PYTHON (a program name looked up on PATH, or an absolute
# path; SYSTEM=1: with --system-site-packages) with
# the requirements file that REQFN prints installed by `pip install PIPOPT...
# -r` (REQFN '' = nothing to install). DIGEST identifies the requirements
# and the options. The venv is made when missing, or made again (its content
# removed first) when the interpreter behind PYTHON (or SYSTEM) is not what
# it was made with, its bin/python is gone, or an earlier run did not finish
# making it (PATH/.depc-making). pip runs when the venv was (re)made or .depc-installed
# does not say "DIGEST <interpreter>". Into an existing venv, pip installs
# only after `pip install --dry-run` succeeded with the same arguments
# (resolution, downloads and metadata checked, nothing installed), and pip
# itself builds every wheel before it installs any: a broken requirement
# fails the resource with pip's last lines and leaves the venv as it was.
# --check runs the interpreter probe only and reports what it would do, with
# the diff of the requirements.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_virtualenv() {
  local p python system digest reqfn ident have remake install
  p=$1 python=$2 system=$3 digest=$4 reqfn=$5
  shift 5
  depc_venv_probe "$python" || return 1
  ident=$depc_venv_ident
  [ "$system" = 0 ] || ident="$ident system-site-packages"
  if [ -L "$p" ]; then
    depc_error="$p exists and is a symbolic link"
    return 1
  elif [ -e "$p" ] && [ ! -d "$p" ]; then
    depc_error="$p exists and is not a directory"
    return 1
  fi
  remake=
  if [ ! -d "$p" ]; then
    depc_change created created
  elif [ -f "$p/.depc-making" ]; then
    remake=1
    depc_change created "created (an earlier run did not finish it)"
  elif [ ! -f "$p/pyvenv.cfg" ]; then
    if ! depc_venv_dir_empty "$p"; then
      depc_error="$p exists and is not a virtualenv (no pyvenv.cfg); depc does not replace it"
      return 1
    fi
    depc_change created created
  else
    have=
    if [ -f "$p/.depc-python" ]; then
      IFS= read -r have <"$p/.depc-python"
    fi
    if [ "$have" != "$ident" ]; then
      remake=1
      depc_change python "python ${have:-unknown} -> $ident"
    elif [ ! -x "$p/bin/python" ]; then
      remake=1
      depc_change python "python $p/bin/python is missing"
    fi
  fi
  install=0
  if [ -n "$reqfn" ]; then
    if [ -n "$depc_change_names" ]; then
      install=1
    else
      have=
      if [ -f "$p/.depc-installed" ]; then
        IFS= read -r have <"$p/.depc-installed"
      fi
      [ "$have" = "$digest $ident" ] || install=1
    fi
  fi
  if [ "$depc_mode" = check ]; then
    if [ "$install" = 1 ]; then
      depc_change requirements "installs requirements"
      depc_venv_check_diff "$p" "$reqfn" || return 1
    fi
    return 0
  fi
  [ -n "$depc_change_names" ] || [ "$install" = 1 ] || return 0
  depc_invalidate_facts
  if [ -n "$depc_change_names" ]; then
    depc_venv_create "$depc_venv_py" "$p" "$remake" "$ident" "$system" || return 1
  fi
  if [ "$install" = 1 ]; then
    depc_venv_pip "$p" "$reqfn" "$depc_change_names" "$@" || return 1
    if ! printf '%s %s\n' "$digest" "$ident" 2>"$depc_tmp/err" >"$p/.depc-installed"; then
      depc_fail "cannot record the installed requirements in $p/.depc-installed" "$depc_tmp/err"
      return 1
    fi
    depc_change requirements "installed requirements"
  fi
  return 0
}

# depc_venv_probe PYTHON: find PYTHON (a name on PATH or an absolute path)
# and ask it who it is: depc_venv_py (its path) and depc_venv_ident
# ("VERSION REALPATH" of the interpreter a venv made by it runs, so the
# name python3 pointing at another Python counts as a change).
# shellcheck disable=SC2034 # sets globals read by other functions
depc_venv_probe() {
  case $1 in
    /*)
      if [ ! -f "$1" ] || [ ! -x "$1" ]; then
        depc_error="python $1 is not an executable file on host $DEPC_HOST"
        return 1
      fi
      depc_venv_py=$1
      ;;
    *)
      if ! depc_venv_py=$(command -v "$1" 2>/dev/null) || [ -z "$depc_venv_py" ]; then
        depc_error="python '$1' not found on host $DEPC_HOST (PATH=$PATH)"
        return 1
      fi
      ;;
  esac
  if ! depc_venv_ident=$("$depc_venv_py" -I -S -c 'import os, sys; print("%d.%d.%d" % sys.version_info[:3], os.path.realpath(getattr(sys, "_base_executable", sys.executable)))' 2>"$depc_tmp/err" </dev/null); then
    depc_fail "cannot run $depc_venv_py" "$depc_tmp/err"
    return 1
  fi
  if [ -z "$depc_venv_ident" ]; then
    depc_error="$depc_venv_py printed nothing when asked for its version"
    return 1
  fi
  return 0
}

# depc_venv_dir_empty DIR: succeeds when DIR has no entries (dot files too).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_venv_dir_empty() {
  local entry
  set -- "$1"/* "$1"/.[!.]* "$1"/..?*
  for entry in "$@"; do
    if [ -e "$entry" ] || [ -L "$entry" ]; then
      return 1
    fi
  done
  return 0
}

# depc_venv_create PY PATH REMAKE IDENT SYSTEM: `PY -m venv
# [--system-site-packages] PATH`, then record IDENT in PATH/.depc-python.
# PATH/.depc-making is written first and removed last, so a run stopped
# half-way leaves a directory the next run knows as its own and makes
# again. REMAKE set: PATH's content goes first but that marker (what
# `--clear` does, except that --clear would remove the marker too). Returns
# 1 with depc_error set (the tool's last lines) on failure.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_venv_create() {
  local entry
  rm -f "$2/.depc-installed" "$2/.depc-python"
  if ! mkdir -p "$2" 2>"$depc_tmp/err" || ! : 2>>"$depc_tmp/err" >"$2/.depc-making"; then
    depc_fail "cannot create $2" "$depc_tmp/err"
    return 1
  fi
  if [ -n "$3" ]; then
    for entry in "$2"/* "$2"/.[!.]* "$2"/..?*; do
      [ "$entry" != "$2/.depc-making" ] || continue
      if [ -e "$entry" ] || [ -L "$entry" ]; then
        depc_try "cannot remove $entry to make the venv again" rm -rf "$entry" || return 1
      fi
    done
  fi
  (
    depc_venv_where=$2
    depc_venv_system=$5
    set -- "$1" -m venv
    [ "$depc_venv_system" != 1 ] || set -- "$@" --system-site-packages
    exec "$@" "$depc_venv_where"
  ) </dev/null >"$depc_tmp/out" 2>&1 9>&-
  depc_venv_rc=$?
  if [ "$depc_venv_rc" != 0 ]; then
    depc_venv_pip_cause
    depc_fail "$1 -m venv $2 exited with status $depc_venv_rc" "$depc_tmp/err"
    return 1
  fi
  if ! printf '%s\n' "$4" 2>"$depc_tmp/err" >"$2/.depc-python" || ! rm -f "$2/.depc-making" 2>>"$depc_tmp/err"; then
    depc_fail "cannot write $2/.depc-python" "$depc_tmp/err"
    return 1
  fi
  return 0
}

# depc_venv_pip PATH REQFN FRESH [PIPOPT...]: write REQFN's output to
# PATH/.depc-requirements.txt and install it with PATH's pip, in PATH. Unless
# FRESH (the venv was just made, there is nothing to protect), a
# `pip install --dry-run` with the same arguments must succeed first (a pip
# without --dry-run, older than 22.2, skips that step). Returns 1 with
# depc_error set to pip's last lines.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_venv_pip() {
  local p reqfn fresh req
  p=$1 reqfn=$2 fresh=$3
  shift 3
  req=$p/.depc-requirements.txt
  if ! : 2>"$depc_tmp/err" >"$req" || ! chmod 600 "$req" 2>>"$depc_tmp/err" || ! "$reqfn" 2>>"$depc_tmp/err" >"$req"; then
    depc_fail "cannot write $req" "$depc_tmp/err"
    return 1
  fi
  if [ -z "$fresh" ]; then
    depc_venv_run_pip "$p" --dry-run "$@" -r "$req"
    if [ "$depc_venv_rc" != 0 ] && ! awk '/no such option: --dry-run/ { found = 1 } END { exit !found }' "$depc_tmp/out"; then
      depc_venv_pip_cause
      depc_fail "pip install --dry-run exited with status $depc_venv_rc, nothing was installed" "$depc_tmp/err"
      return 1
    fi
  fi
  rm -f "$p/.depc-installed"
  depc_venv_run_pip "$p" "$@" -r "$req"
  cat "$depc_tmp/out" >"$p/.depc-pip.log" 2>/dev/null
  if [ "$depc_venv_rc" != 0 ]; then
    depc_venv_pip_cause
    depc_fail "pip install exited with status $depc_venv_rc (all of its output: $p/.depc-pip.log)" "$depc_tmp/err"
    return 1
  fi
  return 0
}

# depc_venv_pip_cause: pip's failed output ($depc_tmp/out) cut for the
# failure ($depc_tmp/err): its ERROR lines (the cause; a build failure puts
# it far above the end), then its last 10 lines, in order, each once.
depc_venv_pip_cause() {
  awk '{ line[NR] = $0 }
    END {
      start = NR > 10 ? NR - 9 : 1
      for (i = 1; i < start; i++) if (line[i] ~ /^ *(ERROR|error)[: ]/ && n++ < 5) print line[i]
      for (i = start; i <= NR; i++) print line[i]
    }' "$depc_tmp/out" >"$depc_tmp/err" 2>/dev/null
}

# depc_venv_run_pip PATH PIPARGS...: `PATH/bin/python -m pip install
# PIPARGS...` in PATH, non-interactive, output in $depc_tmp/out, status in
# depc_venv_rc.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_venv_run_pip() {
  (
    cd "$1" || exit 1
    shift
    PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 exec ./bin/python -m pip install "$@"
  ) </dev/null >"$depc_tmp/out" 2>&1 9>&-
  depc_venv_rc=$?
}

# depc_venv_check_diff PATH REQFN: --check only. The diff between the
# requirements pip last got (PATH/.depc-requirements.txt) and REQFN's, for
# depc_step to print; nothing when they are the same text (the interpreter
# or the options changed).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_venv_check_diff() {
  local old oldsha newsha
  if ! "$2" >"$depc_tmp/new" 2>"$depc_tmp/err"; then
    depc_fail "cannot produce the requirements of $1" "$depc_tmp/err"
    return 1
  fi
  old=$1/.depc-requirements.txt
  oldsha='(none)'
  if [ -f "$old" ] && [ -r "$old" ]; then
    depc_sha256_of "$old" || return 1
    oldsha=$depc_digest
  else
    old=/dev/null
  fi
  depc_sha256_of "$depc_tmp/new" || return 1
  newsha=$depc_digest
  [ "$oldsha" != "$newsha" ] || return 0
  depc_diff "$old" "$depc_tmp/new" "$1/.depc-requirements.txt" "$oldsha" "$newsha"
}

# depc_virtualenv_remove PATH: rm -rf (ledger.sh; never follows links inside)
# if it has pyvenv.cfg and holds no path the bundle declares.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_virtualenv_remove() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then
    depc_left="it is no longer a directory"
    depc_left_warn=1
    return 0
  fi
  [ -d "$1" ] || return 0
  if [ ! -f "$1/pyvenv.cfg" ]; then
    depc_left="it has no pyvenv.cfg, so it is not a virtualenv any more"
    depc_left_warn=1
    return 0
  fi
  depc_remove_guard "$1" || return 0
  depc_remove_tree_ok "$1" || return 0
  depc_change removed ''
  [ "$depc_mode" = apply ] || return 0
  depc_try "cannot remove the virtualenv $1" rm -rf "$1"
}
