// Runs one remote program on one host through the system's OpenSSH client.
import { spawn, type ChildProcess } from "node:child_process";
import { classify, type Ended, type Outcome } from "./classify.js";
import { MarkerStream, type StreamEvents } from "./stream.js";
import { trace } from "./trace.js";

export interface SshTarget {
  /** Address or ssh alias (never starts with "-": checked by the compiler and again here). */
  readonly address: string;
  readonly user?: string;
  readonly port?: number;
}

export interface SshSettings {
  /** `ssh -F FILE`. */
  readonly configFile?: string;
  /** `-o OPTION` each, before depc's own (ssh keeps the first value of an option). */
  readonly options: readonly string[];
  /** Overall time limit of one host's run, in seconds. */
  readonly timeoutSeconds?: number;
  /** The ssh binary. @default "ssh" */
  readonly ssh?: string;
}

/** Options depc sets unless the user set them: no prompts (hosts run in parallel). */
const DEFAULT_OPTIONS = ["BatchMode=yes"];

/** The argv of ssh for one run: options, `-l`/`-p`, `--`, destination, the remote command. */
export function sshArgv(target: SshTarget, settings: SshSettings, remoteCommand: string): string[] {
  if (target.address === "" || target.address.startsWith("-")) throw new Error(`invalid host address ${JSON.stringify(target.address)}`);
  const argv: string[] = [];
  if (settings.configFile !== undefined) argv.push("-F", settings.configFile);
  const given = new Set(settings.options.map((o) => o.split(/[=\s]/, 1)[0]!.toLowerCase()));
  for (const o of settings.options) argv.push("-o", o);
  for (const o of DEFAULT_OPTIONS) if (!given.has(o.split("=", 1)[0]!.toLowerCase())) argv.push("-o", o);
  argv.push("-T");
  if (target.user !== undefined) argv.push("-l", target.user);
  if (target.port !== undefined) argv.push("-p", String(target.port));
  argv.push("--", target.address, remoteCommand);
  return argv;
}

export interface RunHandle {
  /** What the remote program printed so far. */
  readonly stream: MarkerStream;
  readonly done: Promise<{ outcome: Outcome; stream: MarkerStream; stderr: string }>;
  /** Send a line to the remote program's stdin (rollback's choice). */
  answer(line: string): void;
  /**
   * A session opened without `input` (see runSsh): hands the remote side its
   * program and bundle now; --timeout counts from here.
   */
  send(input: string | Buffer): void;
  /** A session opened without `input` that will not be used: stdin's EOF ends it on the host before anything ran. */
  cancel(): void;
  /** Stop the run (Ctrl-C): ssh is killed, the host reports "interrupted". */
  interrupt(): void;
  /**
   * Replaces the events given to runSsh: a session opened before the build
   * (see early.ts) gets its host's handlers when a deploy takes it. Before
   * its program runs, the session prints nothing but ssh's own stderr.
   */
  attach(events: SshEvents): void;
}

export type SshEvents = StreamEvents & { readonly stderrLine?: (line: string) => void };

/**
 * Starts ssh; `input` goes to the remote side's stdin (the program line, then
 * the bundle); {@link RunHandle.answer} writes more (rollback's choice).
 * stdin is closed at the remote program's end (or fail) marker.
 * Without `input` the session is only opened (connection, authentication,
 * the constant bootstrap waiting for its program line): a deploy opens every
 * host's session at its start, in parallel, and sends each host its bundle
 * when its providers are done ({@link RunHandle.send}), so a later wave pays
 * no handshake.
 */
export function runSsh(
  target: SshTarget,
  settings: SshSettings,
  remoteCommand: string,
  nonce: string,
  opts: { input?: string | Buffer; sudo: boolean; events?: SshEvents; /** Names the session in DEPC_TRACE's lines. @default target.address */ label?: string },
): RunHandle {
  let events = opts.events;
  const label = opts.label ?? target.address;
  // stdin stays open while the bundle runs (its EOF stops the bundle on the
  // host, see remote.ts): it is closed once the remote program is done.
  let closeStdin = () => {};
  const stream = new MarkerStream(nonce, {
    output: (line) => events?.output?.(line),
    marker: (word, text) => {
      trace(`${label}: marker ${word}`);
      events?.marker?.(word, text);
      if (word === "end" || word === "fail") closeStdin();
    },
  });
  let stderr = "";
  let child: ChildProcess;
  let timedOutAfter: number | undefined;
  let interrupted = false;
  const argv = sshArgv(target, settings, remoteCommand);
  let resolveDone!: (v: { outcome: Outcome; stream: MarkerStream; stderr: string }) => void;
  const done = new Promise<{ outcome: Outcome; stream: MarkerStream; stderr: string }>((r) => (resolveDone = r));
  const finish = (ended: Omit<Ended, "stream" | "stderr" | "sudo">) => {
    stream.end();
    const full: Ended = {
      ...ended,
      stream,
      stderr,
      sudo: opts.sudo,
      ...(timedOutAfter !== undefined ? { timedOutAfter } : {}),
      ...(interrupted ? { interrupted } : {}),
    };
    resolveDone({ outcome: classify(full), stream, stderr });
  };
  try {
    child = spawn(settings.ssh ?? "ssh", argv, { stdio: ["pipe", "pipe", "pipe"] });
    trace(`${label}: ssh spawned${opts.input !== undefined ? " with its input" : ""}`);
  } catch (error) {
    finish({ code: null, signal: null, spawnError: (error as Error).message });
    return { stream, done, answer() {}, send() {}, cancel() {}, interrupt() {}, attach() {} };
  }
  let settled = false;
  child.on("error", (error: NodeJS.ErrnoException) => {
    if (settled) return;
    settled = true;
    const why = error.code === "ENOENT" ? `'${settings.ssh ?? "ssh"}' not found: install the OpenSSH client` : error.message;
    finish({ code: null, signal: null, spawnError: why });
  });
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => stream.push(chunk));
  let partial = "";
  child.stderr!.on("data", (chunk: string) => {
    const stderrLine = events?.stderrLine;
    if (stderrLine) {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop()!;
      for (const l of lines) stderrLine(l);
    }
    // Keep the start and the end of a long stderr.
    stderr = stderr.length > 64 * 1024 ? stderr.slice(0, 16 * 1024) + "\n…\n" + stderr.slice(-32 * 1024) + chunk : stderr + chunk;
  });
  child.stdin!.on("error", () => {
    /* EPIPE: ssh ended before it read everything; its exit status tells why. */
  });
  closeStdin = () => {
    if (!child.stdin!.writableEnded) child.stdin!.end();
  };
  if (opts.input !== undefined) child.stdin!.write(opts.input);
  // Stopping a run: close stdin (the host side stops the bundle at its EOF)
  // and end ssh. Then do not wait for ssh's pipes to close: a ControlMaster
  // holds them (it was handed the client's file descriptors) until the
  // remote session is gone.
  let stopping = false;
  const stop = () => {
    stopping = true;
    closeStdin();
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 2000).unref();
  };
  let timer: NodeJS.Timeout | undefined;
  const startTimer = () => {
    if (settings.timeoutSeconds === undefined || settings.timeoutSeconds <= 0 || settled) return;
    timer = setTimeout(() => {
      timedOutAfter = settings.timeoutSeconds;
      stop();
    }, settings.timeoutSeconds * 1000);
  };
  if (opts.input !== undefined) startTimer();
  const settle = (code: number | null, signal: NodeJS.Signals | null) => {
    trace(`${label}: ssh closed`);
    if (timer) clearTimeout(timer);
    if (settled) return;
    settled = true;
    finish({ code, signal });
  };
  child.on("exit", (code, signal) => {
    trace(`${label}: ssh exited`);
    if (!stopping) return;
    // Output already on its way still counts.
    setTimeout(() => {
      child.stdout!.destroy();
      child.stderr!.destroy();
      settle(code, signal);
    }, 200).unref();
  });
  child.on("close", settle);
  return {
    stream,
    done,
    answer(line: string) {
      if (child.stdin!.writable) child.stdin!.write(`${line}\n`);
    },
    send(input: string | Buffer) {
      trace(`${label}: send`);
      if (child.stdin!.writable) child.stdin!.write(input);
      startTimer();
    },
    cancel() {
      closeStdin();
      // A session still connecting may not read its EOF soon: ssh goes.
      setTimeout(() => child.kill("SIGTERM"), 2000).unref();
    },
    interrupt() {
      interrupted = true;
      stop();
    },
    attach(next: SshEvents) {
      events = next;
    },
  };
}
