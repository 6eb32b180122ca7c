// Turns how an ssh run ended (exit status, stderr, the markers the remote
// program printed) into one host outcome with a one-line cause.
import { STOP_GRACE_SECONDS } from "./remote.js";
import type { MarkerStream } from "./stream.js";

export type CauseKind =
  | "unreachable"
  | "host-key"
  | "permission-denied"
  | "connection-lost"
  | "no-sh"
  | "sudo"
  | "upload-failed"
  | "disk-full"
  | "locked"
  | "bundle-error"
  | "timeout"
  | "interrupted"
  | "not-found"
  | "dependency"
  | "ssh"
  | "drain"
  | "rollout";

export interface Cause {
  readonly kind: CauseKind;
  /** One line, without the host name. */
  readonly message: string;
}

export interface Ended {
  /** ssh's exit status, or undefined when it died of a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly stream: MarkerStream;
  readonly sudo: boolean;
  readonly timedOutAfter?: number;
  readonly interrupted?: boolean;
  /** Set when ssh itself could not be started. */
  readonly spawnError?: string;
}

export type Outcome =
  | { readonly ran: true; readonly exit: number; readonly cause?: Cause }
  | { readonly ran: false; readonly cause: Cause };

const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");

/** The lines of stderr that explain something (no ssh warnings about known_hosts additions). */
function meaningful(stderr: string): string[] {
  return lines(stderr).filter((l) => !/^Warning: Permanently added/.test(l) && !/^\*\*|^@+$/.test(l));
}

const oneLine = (text: string, max = 300) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** ssh exited 255: ssh itself failed. */
export function classifySsh(stderr: string): Cause {
  const all = meaningful(stderr);
  const text = all.join("\n");
  const detail = (re: RegExp) => oneLine(all.find((l) => re.test(l)) ?? all.at(-1) ?? "");
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(text)) {
    return { kind: "host-key", message: "wrong host key: the host's key differs from the one in known_hosts (reinstalled host, or someone in between)" };
  }
  if (/Host key verification failed|No \S+ host key is known|host key is not known/i.test(text)) {
    return { kind: "host-key", message: `host key not verified: the host's key is not in known_hosts (${detail(/host key/i)})` };
  }
  if (/Permission denied|Too many authentication failures|Authentication failed/i.test(text)) {
    return { kind: "permission-denied", message: `permission denied: the ssh login was refused (${detail(/Permission denied|authentication/i)})` };
  }
  if (/Connection refused/i.test(text)) {
    return { kind: "unreachable", message: `unreachable: connection refused, is sshd running? (${detail(/Connection refused/i)})` };
  }
  if (/Could not resolve hostname|Name or service not known|nodename nor servname|Temporary failure in name resolution/i.test(text)) {
    return { kind: "unreachable", message: `unreachable: cannot resolve the host name (${detail(/resolve|name/i)})` };
  }
  if (/No route to host|Network is unreachable|Host is unreachable/i.test(text)) {
    return { kind: "unreachable", message: `unreachable: no route to the host (${detail(/route|unreachable/i)})` };
  }
  if (/Connection timed out|Operation timed out|timed out during banner/i.test(text)) {
    return { kind: "unreachable", message: `unreachable: connection timed out (${detail(/timed out/i)})` };
  }
  if (/closed by remote host|Connection closed by|Connection reset|Broken pipe|Timeout, server .* not responding|client_loop/i.test(text)) {
    return { kind: "connection-lost", message: `connection lost (${detail(/closed|reset|Broken pipe|not responding|client_loop/i)})` };
  }
  return { kind: "ssh", message: `ssh failed: ${oneLine(all.at(-1) ?? "no message (exit 255)")}` };
}

/** Decides what happened on one host. */
export function classify(ended: Ended): Outcome {
  const { stream, stderr } = ended;
  if (ended.spawnError !== undefined) return { ran: false, cause: { kind: "ssh", message: `cannot run ssh: ${ended.spawnError}` } };
  const fail = stream.markers.find((m) => m.word === "fail");
  if (fail) return { ran: false, cause: remoteFailure(fail.text) };
  const exit = stream.get("exit");
  // depc stopping a run (Ctrl-C, --timeout) closes stdin first: the host may stop the bundle and
  // report its status (128+N) before ssh ends. That status is depc's stop, not the bundle's doing.
  const stopped = ended.interrupted === true || ended.timedOutAfter !== undefined;
  if (exit !== undefined && !(stopped && Number.parseInt(exit, 10) >= 128)) {
    const code = Number.parseInt(exit, 10);
    return { ran: true, exit: code, ...(bundleCause(code, stderr) ? { cause: bundleCause(code, stderr)! } : {}) };
  }
  if (ended.interrupted) return { ran: false, cause: { kind: "interrupted", message: "interrupted" } };
  // depc went away from the host: its remote program stops the bundle (remote.ts).
  const stops = `the host stops the bundle within ${STOP_GRACE_SECONDS}s`;
  if (ended.timedOutAfter !== undefined) {
    return { ran: false, cause: { kind: "timeout", message: `timed out after ${ended.timedOutAfter}s${stream.has("run") ? ` while the bundle ran; ${stops}` : ""}` } };
  }
  // Who went away. ssh ending by a signal that depc did not send: the local client was killed.
  // ssh's 255 with a message: the connection (closed by the remote side, reset, no reply...).
  const lost = (): { what: string; hostStops: boolean | "maybe" } => {
    if (ended.signal !== null) return { what: `the local ssh client was killed (${ended.signal})`, hostStops: true };
    if (ended.code === 255) {
      const last = meaningful(stderr).at(-1);
      // Silent 255: OpenSSH says nothing when the remote command died of a signal, nor (a
      // ControlMaster's client) when the shared connection closed. Name both.
      if (last === undefined) return { what: "ssh ended without a message (exit 255: the connection closed, or the remote program was killed on the host)", hostStops: false };
      // Closed or reset by the host's side: the host knows. A timeout or a failed write: maybe not.
      const closed = /closed by remote host|Connection closed by|Connection reset/i.test(last);
      return { what: `connection lost (${oneLine(last)})`, hostStops: closed ? true : "maybe" };
    }
    return { what: `the remote side ended (exit ${ended.code})${lastLine(stderr)}`, hostStops: false };
  };
  if (stream.has("run")) {
    const { what, hostStops } = lost();
    const then = hostStops === true ? `${stops}: ` : hostStops === "maybe" ? "the host may finish the bundle on its own: " : "";
    return { ran: false, cause: { kind: "connection-lost", message: `${what} while the bundle ran; ${then}run 'depc deploy' again, it converges` } };
  }
  if (stream.has("begin")) return { ran: false, cause: { kind: "connection-lost", message: `${lost().what} while uploading the bundle` } };
  if (ended.code === 255) return { ran: false, cause: classifySsh(stderr) };
  const text = meaningful(stderr).join("\n");
  if (ended.sudo) {
    if (/sudo: (a )?password is required|a terminal is required|no tty present/i.test(text)) {
      return { ran: false, cause: { kind: "sudo", message: "sudo wants a password (depc runs 'sudo -n'): allow this user NOPASSWD sudo, or deploy as root" } };
    }
    if (/not in the sudoers file|not allowed to (run|execute)|may not run sudo/i.test(text)) {
      return { ran: false, cause: { kind: "sudo", message: `sudo refused: ${oneLine(meaningful(stderr).find((l) => /sudo/i.test(l)) ?? text)}` } };
    }
    if (/sudo: (command )?not found|sudo: No such file/i.test(text)) {
      return { ran: false, cause: { kind: "sudo", message: "sudo is not installed on the host" } };
    }
  }
  if (ended.code === 127 || /(^|\W)sh: (command )?not found|exec: sh: not found|sh: No such file/i.test(text)) {
    return { ran: false, cause: { kind: "no-sh", message: `no 'sh' on the host's PATH: depc needs a POSIX sh there${lastLine(stderr)}` } };
  }
  return { ran: false, cause: { kind: "ssh", message: `the remote command failed before the bundle ran (${ended.signal ?? `exit ${ended.code}`})${lastLine(stderr)}` } };
}

function lastLine(stderr: string): string {
  const last = meaningful(stderr).at(-1);
  return last === undefined ? "" : `: ${oneLine(last)}`;
}

function remoteFailure(text: string): Cause {
  const space = text.indexOf(" ");
  const what = space < 0 ? text : text.slice(0, space);
  const rest = space < 0 ? "" : oneLine(text.slice(space + 1));
  switch (what) {
    case "upload":
      if (/No space left|Disk quota exceeded|File too large/i.test(rest)) return { kind: "disk-full", message: `upload failed: disk full on the host (${rest})` };
      return { kind: "upload-failed", message: `upload failed: ${rest}` };
    case "truncated":
      return { kind: "upload-failed", message: `upload failed: ${rest}` };
    case "tmp":
      return { kind: "upload-failed", message: `upload failed: ${rest}` };
    case "missing":
      return { kind: "not-found", message: `no kept bundle ${rest}` };
    default:
      return { kind: "ssh", message: `${what}: ${rest}` };
  }
}

const SIGNALS: Record<number, string> = { 1: "SIGHUP", 2: "SIGINT", 9: "SIGKILL", 13: "SIGPIPE", 15: "SIGTERM" };

/** A bundle that ran but did not converge: why, in one line. */
function bundleCause(code: number, stderr: string): Cause | undefined {
  if (code === 0 || code === 2) return undefined;
  // The runtime prefixes its messages with "depc: ENV/HOST: "; the host is named anyway.
  const msgs = meaningful(stderr).map((l) => l.replace(/^depc: [^/\s]+\/[^:\s]+: /, ""));
  const last = msgs.at(-1);
  if (code === 1) return { kind: "bundle-error", message: oneLine(last ?? "the bundle failed (exit 1)") };
  if (code === 3) return { kind: "locked", message: oneLine(last ?? "another run holds the host's lock (exit 3)") };
  if (code === 64) return { kind: "bundle-error", message: `the bundle rejected its options (exit 64): ${oneLine(msgs.find((l) => /depc:/.test(l)) ?? last ?? "")}` };
  if (code >= 128) {
    // 128+N: the shell's status of a bundle ended by signal N.
    const signal = SIGNALS[code - 128];
    const how = code === 137 ? "was killed on the host (SIGKILL, exit 137)" : `was interrupted (exit ${code}${signal ? `, ${signal}` : ""})`;
    return { kind: "interrupted", message: `the bundle ${how}${last ? `: ${oneLine(last)}` : ""}` };
  }
  return { kind: "bundle-error", message: `the bundle exited ${code}${last ? `: ${oneLine(last)}` : ""}` };
}
