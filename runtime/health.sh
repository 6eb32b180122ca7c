# shellcheck shell=sh disable=SC2034,SC2154
# SC2034/SC2154: globals are shared between the runtime files; a whole bundle
# is checked without these exclusions (see test/runtime/shellcheck.test.ts).
#
# depc runtime: health checks (HealthCheck, and the `health` of Program and
# Service). A check is PROBE ARGS, retried: `http URL STATUS BODY` (a GET;
# BODY '' = any body), `tcp HOST PORT` (a connect), `command DISPLAY RUNFN`
# (exit status 0). The tools are probed once per run: curl, else wget (GNU:
# status from `-S`; busybox's: the same, run under `timeout`), else
# `busybox wget`; for TCP `nc -z` (OpenBSD/traditional), else busybox's `nc`
# (connects, reads EOF from /dev/null), else bash's /dev/tcp (bash as a tool,
# under `timeout`), else python3.

# depc_health LABEL PROBE RETRIES INTERVAL TIMEOUT ARGS...: up to RETRIES
# attempts of PROBE ARGS, INTERVAL seconds apart, each stopped after TIMEOUT
# seconds. Sets depc_health_result (passed/failed), depc_health_attempts,
# depc_health_secs (one decimal) and depc_note ("health passed: ..."), and
# records them for the report ($depc_tmp/health). Failure: depc_fail "LABEL
# failed after N attempts in S s: REASON" with the last attempt's output.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_health() {
  local label probe retries interval timeout start n
  label=$1 probe=$2 retries=$3 interval=$4 timeout=$5
  shift 5
  start=$(depc_health_clock)
  n=0
  if ! depc_health_tools "$probe"; then
    depc_health_done failed 0 "$start"
    return 1
  fi
  while :; do
    n=$((n + 1))
    if depc_health_attempt "$probe" "$timeout" "$@"; then
      depc_health_done passed "$n" "$start"
      return 0
    fi
    [ "$n" -lt "$retries" ] || break
    sleep "$interval"
  done
  depc_health_done failed "$n" "$start"
  depc_fail "$label failed after $depc_health_tries in ${depc_health_secs}s: $depc_health_why" "$depc_tmp/health.out"
}

# depc_health_done RESULT ATTEMPTS START: sets the results and appends
# "INDEX RESULT ATTEMPTS SECONDS" (TAB-separated) to $depc_tmp/health.
# shellcheck disable=SC3043,SC2034 # local is a deliberate extension; sets globals read by other functions
depc_health_done() {
  local d
  d=$(($(depc_health_clock) - $3))
  [ "$d" -ge 0 ] || d=0
  depc_health_result=$1
  depc_health_attempts=$2
  depc_health_secs=$((d / 100)).$((d % 100 / 10))
  depc_health_tries="$2 attempts"
  [ "$2" != 1 ] || depc_health_tries="1 attempt"
  depc_note="health $1: $depc_health_tries in ${depc_health_secs}s"
  printf '%s\t%s\t%s\t%s\n' "${depc_index:-0}" "$1" "$2" "$depc_health_secs" >>"$depc_tmp/health"
}

# depc_health_clock: the time in hundredths of a second (/proc/uptime; else
# whole seconds from `date +%s`).
# shellcheck disable=SC3043 # local is a deliberate extension
depc_health_clock() {
  local up rest whole frac
  if [ -r /proc/uptime ] && IFS=' ' read -r up rest </proc/uptime; then
    whole=${up%.*} frac=${up#*.}
    case $whole$frac in
      '' | *[!0-9]*) ;;
      *)
        frac=${frac%"${frac#??}"}
        echo $((whole * 100 + ${frac#0}))
        return 0
        ;;
    esac
  fi
  echo $(($(date +%s) * 100))
}

# depc_health_tools PROBE: the tools PROBE needs, probed once per run into
# depc_health_fetch (curl, wget, bbwget, busybox) or depc_health_connect
# (nc-z, nc, busybox, bash, python3). None: depc_error names the host and
# the tools, one line.
depc_health_tools() {
  case $1 in
    http)
      [ -z "${depc_health_fetch:-}" ] || return 0
      if command -v curl >/dev/null 2>&1; then
        depc_health_fetch=curl
      elif command -v wget >/dev/null 2>&1; then
        depc_health_fetch=bbwget
        ! wget --version 2>/dev/null | awk '/GNU Wget/ { f = 1 } END { exit !f }' || depc_health_fetch=wget
      elif command -v busybox >/dev/null 2>&1; then
        depc_health_fetch=busybox
      else
        depc_error="an HTTP check needs 'curl', 'wget' or 'busybox' on host $DEPC_HOST; none is on PATH ($PATH)"
        return 1
      fi
      ;;
    tcp)
      [ -z "${depc_health_connect:-}" ] || return 0
      if command -v nc >/dev/null 2>&1; then
        depc_health_connect=nc
        ! nc -h 2>&1 | awk '/^[ \t]*-z/ { f = 1 } END { exit !f }' || depc_health_connect=nc-z
      elif command -v bash >/dev/null 2>&1; then
        depc_health_connect=bash
      elif command -v python3 >/dev/null 2>&1; then
        depc_health_connect=python3
      elif command -v busybox >/dev/null 2>&1; then
        depc_health_connect=busybox
      else
        depc_error="a TCP check needs 'nc', 'bash', 'python3' or 'busybox' on host $DEPC_HOST; none is on PATH ($PATH)"
        return 1
      fi
      ;;
  esac
  case $1:${depc_health_fetch:-}:${depc_health_connect:-} in
    command:* | http:bbwget:* | http:busybox:* | tcp:*:bash)
      command -v timeout >/dev/null 2>&1 && return 0
      depc_error="a health check's timeout needs the 'timeout' tool on host $DEPC_HOST; it is not on PATH ($PATH)"
      return 1
      ;;
  esac
  return 0
}

# depc_health_attempt PROBE TIMEOUT ARGS...: one attempt; on failure
# depc_health_why says why and $depc_tmp/health.out holds the output.
depc_health_attempt() {
  : >"$depc_tmp/health.out"
  case $1 in
    http) depc_health_http "$2" "$3" "$4" "$5" ;;
    tcp) depc_health_tcp "$2" "$3" "$4" ;;
    command) depc_health_command "$2" "$3" "$4" ;;
    *)
      depc_health_why="unknown probe '$1'"
      return 1
      ;;
  esac
}

# depc_health_http TIMEOUT URL STATUS BODY: GET URL (redirects followed)
# answers STATUS, and a line of its body contains BODY ('' = any body).
# wget exits non-zero on 4xx/5xx, so its status comes from the last
# `HTTP/x NNN` header line `-S` prints; busybox wget keeps no body then.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_health_http() {
  local timeout url want body code rc
  timeout=$1 url=$2 want=$3 body=$4
  rm -f "$depc_tmp/health.body"
  : >"$depc_tmp/health.err"
  case $depc_health_fetch in
    curl)
      code=$(curl -sS -L -o "$depc_tmp/health.body" -w '%{http_code}' --max-time "$timeout" "$url" </dev/null 2>"$depc_tmp/health.err")
      rc=$?
      ;;
    wget)
      wget -q -S --tries=1 --timeout="$timeout" --content-on-error -O "$depc_tmp/health.body" "$url" </dev/null 2>"$depc_tmp/health.err"
      rc=$?
      ;;
    bbwget)
      timeout "$timeout" wget -q -S -O "$depc_tmp/health.body" "$url" </dev/null 2>"$depc_tmp/health.err"
      rc=$?
      ;;
    busybox)
      timeout "$timeout" busybox wget -q -S -O "$depc_tmp/health.body" "$url" </dev/null 2>"$depc_tmp/health.err"
      rc=$?
      ;;
  esac
  if [ "$depc_health_fetch" != curl ]; then
    code=$(awk '$1 ~ /^HTTP\// && $2 ~ /^[0-9][0-9][0-9]$/ { c = $2 } END { print c }' "$depc_tmp/health.err")
  fi
  case $code in
    '' | 000)
      # GNU timeout exits 124, busybox's 143; curl's own limit is 28.
      case $rc in
        124 | 143 | 28) depc_health_why="GET $url: no response within ${timeout}s" ;;
        *) depc_health_why="GET $url: no response" ;;
      esac
      depc_health_tail "$depc_tmp/health.err"
      return 1
      ;;
  esac
  if [ "$code" != "$want" ]; then
    depc_health_why="GET $url: status $code, expected $want"
    depc_health_tail "$depc_tmp/health.body"
    return 1
  fi
  [ -n "$body" ] || return 0
  if [ -f "$depc_tmp/health.body" ] &&
    depc_health_body=$body awk 'index($0, ENVIRON["depc_health_body"]) { f = 1 } END { exit !f }' "$depc_tmp/health.body"; then
    return 0
  fi
  depc_health_why="GET $url: status $code, but no line of the body contains '$body'"
  depc_health_tail "$depc_tmp/health.body"
  return 1
}

# depc_health_tcp TIMEOUT HOST PORT: a TCP connection to HOST:PORT opens.
# shellcheck disable=SC3043,SC2016 # local is a deliberate extension; $1 and $2 are bash's, in single quotes on purpose
depc_health_tcp() {
  local timeout host port rc
  timeout=$1 host=$2 port=$3
  case $depc_health_connect in
    nc-z) nc -z -w "$timeout" "$host" "$port" </dev/null >"$depc_tmp/health.err" 2>&1 ;;
    nc) nc -w "$timeout" "$host" "$port" </dev/null >/dev/null 2>"$depc_tmp/health.err" ;;
    busybox) busybox nc -w "$timeout" "$host" "$port" </dev/null >/dev/null 2>"$depc_tmp/health.err" ;;
    bash) timeout "$timeout" bash -c 'exec 3<>"/dev/tcp/$1/$2"' depc "$host" "$port" </dev/null >"$depc_tmp/health.err" 2>&1 ;;
    python3)
      python3 -c 'import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), float(sys.argv[3])).close()
except OSError as e:
    sys.exit(str(e))' "$host" "$port" "$timeout" </dev/null >"$depc_tmp/health.err" 2>&1
      ;;
  esac
  rc=$?
  [ "$rc" != 0 ] || return 0
  case $rc in
    124 | 143) depc_health_why="TCP connect to $host:$port: no answer within ${timeout}s" ;;
    *) depc_health_why="TCP connect to $host:$port failed" ;;
  esac
  depc_health_tail "$depc_tmp/health.err"
  return 1
}

# depc_health_command TIMEOUT DISPLAY RUNFN: RUNFN (the command, DISPLAY as
# reports show it) exits 0 within TIMEOUT seconds; stdin /dev/null, fd 9 closed.
# shellcheck disable=SC3043 # local is a deliberate extension
depc_health_command() {
  local rc
  "$3" timeout "$1" </dev/null >"$depc_tmp/health.err" 2>&1 9>&-
  rc=$?
  [ "$rc" != 0 ] || return 0
  case $rc in
    124 | 143) depc_health_why="$2 timed out after ${1}s" ;;
    *) depc_health_why="$2 exited with status $rc" ;;
  esac
  depc_health_tail "$depc_tmp/health.err"
  return 1
}

# depc_health_tail FILE: FILE's last 10 lines, each cut to 200 characters,
# into $depc_tmp/health.out, escaped: C0 controls but tab, DEL, C1 controls
# and Unicode bidi controls become \xNN / \uNNNN (bytes a host controls must
# not move the operator's cursor or reorder a line).
depc_health_tail() {
  [ -f "$1" ] || return 0
  awk '
    BEGIN {
      for (i = 1; i < 32; i++) if (i != 9) esc[sprintf("%c", i)] = sprintf("\\x%02x", i)
      esc[sprintf("%c", 127)] = "\\x7f"
      for (i = 128; i < 160; i++) uesc[sprintf("%c%c", 194, i)] = sprintf("\\u%04x", i)
      n = split("200e 200f 202a 202b 202c 202d 202e 2066 2067 2068 2069 2028 2029 061c", cps, " ")
      for (k = 1; k <= n; k++) {
        h = cps[k]; v = 0
        for (j = 1; j <= 4; j++) v = v * 16 + index("0123456789abcdef", substr(h, j, 1)) - 1
        if (v < 2048) s = sprintf("%c%c", 192 + int(v / 64), 128 + v % 64)
        else s = sprintf("%c%c%c", 224 + int(v / 4096), 128 + int(v / 64) % 64, 128 + v % 64)
        uesc[s] = "\\u" h
      }
    }
    { l[NR % 10] = substr($0, 1, 200) }
    END {
      for (i = NR - 9; i <= NR; i++) {
        if (i < 1) continue
        s = l[i % 10]; out = ""
        while (s != "") {
          c = substr(s, 1, 1)
          if (c in esc) { out = out esc[c]; s = substr(s, 2); continue }
          t = substr(s, 1, 2); u = substr(s, 1, 3)
          if (t in uesc) { out = out uesc[t]; s = substr(s, 3); continue }
          if (u in uesc) { out = out uesc[u]; s = substr(s, 4); continue }
          out = out c; s = substr(s, 2)
        }
        print out
      }
    }' "$1" >"$depc_tmp/health.out" 2>/dev/null
}
