# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: files fetched from a URL and verified by their sha256.

# depc_download PATH URL SHA256 MODE OWNER GROUP: PATH is a regular file
# whose sha256 is SHA256, fetched from URL (curl, else GNU or busybox wget) when it is missing or its digest differs; MODE, OWNER and GROUP as
# for depc_file. The bytes go into a temp file in PATH's directory (written
# through the shell's redirection, so a tool that outlives a killed run
# writes into a file already removed), are verified, given their attributes
# and renamed over PATH. A wrong digest fails naming both digests and leaves
# PATH as it was. Attribute-only differences are fixed in place.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_download() {
  local p url sha dir tmp fetched
  p=$1 url=$2 sha=$3
  dir=${p%/*}
  [ -n "$dir" ] || dir=/
  if [ -L "$p" ]; then
    depc_error="$p exists and is a symbolic link"
    return 1
  elif [ -e "$p" ] && [ ! -f "$p" ]; then
    depc_error="$p exists and is not a regular file"
    return 1
  fi
  if [ -f "$p" ]; then
    depc_stat "$p" || return 1
    depc_sha256_of "$p" || return 1
    if [ "$depc_digest" = "$sha" ]; then
      depc_attrs_compare "$4" "$5" "$6" 1
      [ -n "$depc_change_names" ] || return 0
      [ "$depc_mode" = apply ] || return 0
      depc_attrs_apply "$p" "$4" "$5" "$6"
      return
    fi
    depc_change content content
  else
    depc_change created created
  fi
  depc_change download "download $url"
  [ "$depc_mode" = apply ] || return 0
  if [ ! -d "$dir" ]; then
    depc_error="parent directory $dir does not exist"
    return 1
  fi
  depc_download_tool "$url" || return 1
  depc_mktemp "$dir" || return 1
  tmp=$depc_inflight
  fetched=0
  case $depc_dl_tool in
    curl) curl -fsSL --connect-timeout 30 -- "$url" >"$tmp" 2>"$depc_tmp/err" && fetched=1 ;;
    wget) wget -nv -T 60 -O - -- "$url" >"$tmp" 2>"$depc_tmp/err" && fetched=1 ;;
    # busybox wget: no -nv, and -T crashes some builds; without -q it says why it failed.
    *) wget -O - -- "$url" >"$tmp" 2>"$depc_tmp/err" && fetched=1 ;;
  esac
  if [ "$fetched" = 0 ]; then
    [ -s "$depc_tmp/err" ] || printf '%s exited with an error\n' "$depc_dl_tool" >"$depc_tmp/err"
    depc_fail "cannot download $url with ${depc_dl_tool%-busybox}" "$depc_tmp/err"
    return 1
  fi
  depc_sha256_of "$tmp" || return 1
  if [ "$depc_digest" != "$sha" ]; then
    depc_error="$url has sha256 $depc_digest, expected $sha: not installed"
    return 1
  fi
  depc_file_attrs "$tmp" "${4:-0644}" "$5" "$6" || return 1
  depc_try "cannot rename $tmp to $p" mv -f "$tmp" "$p" || return 1
  depc_inflight=
  return 0
}

# depc_download_tool URL: the download tool of this host into depc_dl_tool:
# curl, else wget (GNU Wget) or wget-busybox (any other wget, asked once per
# run with --version); none fails with one line naming the host and the tools.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_download_tool() {
  local v
  if command -v curl >/dev/null 2>&1; then
    depc_dl_tool=curl
  elif command -v wget >/dev/null 2>&1; then
    if [ -z "${depc_dl_wget:-}" ]; then
      v=$(wget --version 2>/dev/null) || v=
      case $v in
        *"GNU Wget"*) depc_dl_wget=wget ;;
        *) depc_dl_wget=wget-busybox ;;
      esac
    fi
    depc_dl_tool=$depc_dl_wget
  else
    depc_error="cannot download $1: host $DEPC_HOST has neither 'curl' nor 'wget' (PATH=$PATH)"
    return 1
  fi
  return 0
}

# depc_download_remove PATH: the downloaded file is removed (ledger.sh) if it
# is still a regular file; --check names it without showing its bytes.
# shellcheck disable=SC2034 # sets globals read by other functions
depc_download_remove() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -f "$1" ]; }; then
    depc_left="it is no longer a regular file"
    depc_left_warn=1
    return 0
  fi
  [ -f "$1" ] || return 0
  depc_remove_guard "$1" || return 0
  depc_change removed ''
  [ "$depc_mode" = apply ] || return 0
  depc_try "cannot remove $1" rm -f "$1"
}
