// The parts of `depc deploy` that need no test hosts: the remote programs
// under every shell installed here (run as ssh would run them: through a
// login shell's -c), the marker stream, failure classification, rollback
// choice, dependencies and scheduling, result collection, build reading and
// ssh's argv. The whole thing over real ssh is in deploy.test.ts.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/build.js";
import { classify, classifySsh } from "../../tools/deploy/classify.js";
import { hostDependencies, schedule } from "../../tools/deploy/deps.js";
import { BOOTSTRAP, programLine, remoteCommand, ROLLBACK_PROGRAM, RUN_PROGRAM, SIZE_ON_STDIN, STOP_GRACE_SECONDS } from "../../tools/deploy/remote.js";
import { shellQuote, shellWord } from "../../compiler/emit/quote.js";
import { collectResources, diffStat, OutputCollector } from "../../tools/deploy/results.js";
import { chooseRollback, normalizeDigest } from "../../tools/deploy/rollback.js";
import { selectHosts } from "../../tools/deploy/run.js";
import { readBuild } from "../../tools/deploy/source.js";
import { sshArgv } from "../../tools/deploy/ssh.js";
import { MarkerStream } from "../../tools/deploy/stream.js";
import { exampleEnvironments } from "../support/golden.js";
import { repoRoot } from "../support/project.js";
import { availableShells, requireTool } from "../support/shells.js";

const have = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
/** Login shells sshd may run the remote command with (`SHELL -c COMMAND`). */
const LOGIN_SHELLS = [["dash"], ["bash"], ["mksh"], ["yash"], ["posh"], ["zsh"], ["busybox", "sh"], ["ksh"]].filter((s) => have(s[0]!));

const scratch = mkdtempSync(join(tmpdir(), "depc-deploy-parts-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A stand-in bundle: prints its arguments, a changed line and a diff-looking line; writes --report. */
const FAKE_BUNDLE = `#!/bin/sh
report=
for a in "$@"; do printf 'arg[%s]\\n' "$a"; done
while [ $# -gt 0 ]; do case $1 in --report) report=$2; shift ;; esac; shift; done
printf 'changed       file /srv/a b (created)\\n'
printf '@@notthenonce run\\n'
printf 'no newline at the end'
[ -z "$report" ] || printf '{"index":1,"kind":"file","key":"/srv/a b","status":"changed","changes":["created"]}\\n{"summary":{"changed":1,"ok":0,"failed":0,"resources":1}}\\n' >"$report"
exit \${FAKE_EXIT:-0}
`;

/** Runs a remote program as sshd would (`SHELL -c COMMAND`), the way depc drives it: stdin stays open until the end marker. */
async function runRemote(shell: string[], program: string, args: string[], input: string, env: Record<string, string> = {}, opts: { closeAfterMs?: number } = {}) {
  const nonce = "0123456789abcdef";
  const command = remoteCommand([nonce, ...args], false);
  const child = spawn(shell[0]!, [...shell.slice(1), "-c", command], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
  const output: string[] = [];
  const stream = new MarkerStream(nonce, {
    output: (l) => output.push(l),
    marker: (word) => {
      if (word === "end" || word === "fail") child.stdin.end();
    },
  });
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => stream.push(c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  child.stdin.on("error", () => {});
  child.stdin.write(programLine(program) + input);
  if (opts.closeAfterMs !== undefined) setTimeout(() => child.stdin.end(), opts.closeAfterMs);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  stream.end();
  return { code, stderr, stream, output };
}

describe("remote programs", () => {
  it("the login shell sees only a constant bootstrap; the programs are one line", () => {
    expect(remoteCommand(["a b", "it's"], true)).toBe(`sudo -n -- ${BOOTSTRAP} depc 'a b' 'it'\\''s'`);
    expect(BOOTSTRAP).toBe(`sh -c 'IFS= read -r p; eval "$p"'`);
    for (const p of [RUN_PROGRAM, ROLLBACK_PROGRAM]) expect(p).not.toContain("\n");
    expect(() => programLine("a\nb")).toThrow();
  });

  it("the programs are shellcheck-clean (SC2317: the cleanup function runs from a trap)", () => {
    if (!requireTool("shellcheck")) return;
    for (const program of [RUN_PROGRAM, ROLLBACK_PROGRAM]) {
      const r = spawnSync("shellcheck", ["-s", "sh", "-e", "SC2317", "-"], { input: `${program}\n`, encoding: "utf8" });
      expect(r.stdout + r.stderr).toBe("");
      expect(r.status).toBe(0);
    }
  });

  it("the remote command's words (shellQuote, and shellWord for messages) survive sh", () => {
    for (const word of ["plain", "", "a b", "it's", "$HOME", "`x`", "\\n", "-x", "a\nb", "ü", "a=b", "%1", "~x"]) {
      for (const quoted of [shellQuote(word), shellWord(word)]) {
        const r = spawnSync("sh", ["-c", `printf %s ${quoted}`], { encoding: "utf8" });
        expect(r.stdout).toBe(word);
      }
    }
    expect(shellWord("my-app/sub.d")).toBe("my-app/sub.d");
    expect(shellWord("~x")).toBe("'~x'");
  });

  for (const shell of LOGIN_SHELLS) {
    it(`run: upload, run, exit status and report come back (login shell ${shell.join(" ")})`, async () => {
      const args = ["--quiet", "--state-dir", "/srv/state dir/it's"];
      const r = await runRemote(shell, RUN_PROGRAM, [String(Buffer.byteLength(FAKE_BUNDLE)), ...args], FAKE_BUNDLE, { FAKE_EXIT: "2" });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(2);
      expect(r.stream.markers.map((m) => m.word)).toEqual(["begin", "run", "exit", "report", "end"]);
      expect(r.stream.get("exit")).toBe("2");
      // Arguments arrive verbatim, then --report; a bundle line without newline is kept.
      expect(r.output.slice(0, 3)).toEqual(["arg[--quiet]", "arg[--state-dir]", "arg[/srv/state dir/it's]"]);
      expect(r.output[3]).toBe("arg[--report]");
      expect(r.output).toContain("changed       file /srv/a b (created)");
      expect(r.output).toContain("@@notthenonce run");
      expect(r.output.at(-1)).toBe("no newline at the end");
      expect(r.stream.reportLines).toHaveLength(2);
      expect(r.stream.preamble).toEqual([]);
    });
  }

  for (const shell of LOGIN_SHELLS) {
    it(`run: a session opened before the build takes the bundle's size on the line after the program (login shell ${shell.join(" ")})`, async () => {
      const r = await runRemote(shell, RUN_PROGRAM, [SIZE_ON_STDIN, "--quiet"], `${Buffer.byteLength(FAKE_BUNDLE)}\n${FAKE_BUNDLE}`, { FAKE_EXIT: "0" });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stream.markers.map((m) => m.word)).toEqual(["begin", "run", "exit", "report", "end"]);
      expect(r.output.slice(0, 2)).toEqual(["arg[--quiet]", "arg[--report]"]);
      expect(r.output).toContain("changed       file /srv/a b (created)");
    });
  }

  it("run: a size line that is not a number is refused and nothing runs", async () => {
    for (const line of ["12x", "", "-1", "$(id)"]) {
      const r = await runRemote(["sh"], RUN_PROGRAM, [SIZE_ON_STDIN], `${line}\n${FAKE_BUNDLE}`, {}, { closeAfterMs: 200 });
      expect(r.stream.has("run")).toBe(false);
      expect(r.stream.get("fail")).toBe("upload bad size");
      const outcome = classify({ code: r.code, signal: null, stderr: r.stderr, stream: r.stream, sudo: false });
      expect(outcome).toMatchObject({ ran: false, cause: { kind: "upload-failed" } });
    }
  });

  it("run: a short upload is refused and nothing runs", async () => {
    const r = await runRemote(["sh"], RUN_PROGRAM, [String(Buffer.byteLength(FAKE_BUNDLE) + 10)], FAKE_BUNDLE, {}, { closeAfterMs: 200 });
    expect(r.stream.has("run")).toBe(false);
    expect(r.stream.get("fail")).toMatch(/^truncated \d+ of \d+ bytes arrived$/);
    const outcome = classify({ code: r.code, signal: null, stderr: r.stderr, stream: r.stream, sudo: false });
    expect(outcome).toMatchObject({ ran: false, cause: { kind: "upload-failed" } });
  });

  it("run: an unusable temp dir is one cause, and the program leaves no files behind", async () => {
    const r = await runRemote(["sh"], RUN_PROGRAM, ["3"], "abc", { TMPDIR: join(scratch, "missing") });
    expect(r.stream.get("fail")).toMatch(/^tmp cannot create a private directory in /);
    const tmp = join(scratch, "tmp-clean");
    mkdirSync(tmp);
    await runRemote(["sh"], RUN_PROGRAM, [String(Buffer.byteLength(FAKE_BUNDLE))], FAKE_BUNDLE, { TMPDIR: tmp });
    expect(spawnSync("ls", ["-A", tmp], { encoding: "utf8" }).stdout).toBe("");
  });

  for (const shell of LOGIN_SHELLS) {
    it(`run: when depc goes away (stdin closes), the bundle is stopped with TERM (login shell ${shell.join(" ")})`, async () => {
      const marker = join(scratch, `finished-${shell.join("-")}`);
      const slow = `trap 'echo TERM >${marker}; exit 143' TERM\nsleep 5 >/dev/null 2>&1 & wait\necho finished >${marker}\n`;
      const t0 = Date.now();
      const r = await runRemote(shell, RUN_PROGRAM, [String(Buffer.byteLength(slow))], slow, {}, { closeAfterMs: 300 });
      expect(Date.now() - t0).toBeLessThan(4000);
      expect(r.stream.get("exit")).toBe("143");
      expect(readFileSync(marker, "utf8")).toBe("TERM\n");
    });
  }

  it("rollback: lists kept bundles and the log, runs the chosen one", async () => {
    const state = join(scratch, "state");
    mkdirSync(join(state, "bundles"), { recursive: true });
    const a = "a".repeat(64);
    const b = "b".repeat(64);
    writeFileSync(join(state, "bundles", `${a}.sh`), FAKE_BUNDLE);
    writeFileSync(join(state, "bundles", `${b}.sh`), "echo should not run; exit 9\n");
    writeFileSync(join(state, "runs.log"), `t1 ${a} apply converged\nt2 ${b} apply converged\n`);
    writeFileSync(join(state, "bundles", ".order"), `${a}\n${b}\n`);
    const nonce = "fedcba9876543210";
    const command = remoteCommand([nonce, "prod", state, "--quiet"], false);
    const child = spawn("sh", ["-c", command], { stdio: ["pipe", "pipe", "pipe"] });
    child.stdin.write(programLine(ROLLBACK_PROGRAM));
    const output: string[] = [];
    let chosen: ReturnType<typeof chooseRollback> | undefined;
    const stream: MarkerStream = new MarkerStream(nonce, {
      output: (l) => output.push(l),
      marker: (word) => {
        if (word === "end") child.stdin.end();
        if (word !== "choose") return;
        chosen = chooseRollback(stream.kept, stream.log, undefined, stream.order);
        child.stdin.write(`${chosen.ok ? chosen.digest : ""}\n`);
      },
    });
    child.stdout.setEncoding("utf8").on("data", (c: string) => stream.push(c));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    stream.end();
    expect(stream.get("state")).toBe(state);
    expect(new Set(stream.kept)).toEqual(new Set([`${a}.sh`, `${b}.sh`]));
    expect(stream.order).toEqual([a, b]);
    expect(chosen).toEqual({ ok: true, digest: a, current: b });
    expect(code).toBe(0);
    expect(output).toContain("arg[--quiet]");
    expect(stream.reportLines).toHaveLength(2);
  });

  it("rollback: an empty answer runs nothing; a non-hex answer is refused", async () => {
    for (const [answer, word] of [["", "end"], ["../../etc/x", "fail"]] as const) {
      const nonce = "1111222233334444";
      const command = remoteCommand([nonce, "prod", join(scratch, "nostate")], false);
      const r = spawnSync("sh", ["-c", command], { input: `${programLine(ROLLBACK_PROGRAM)}${answer}\n`, encoding: "utf8" });
      const stream = new MarkerStream(nonce);
      stream.push(r.stdout);
      stream.end();
      expect(stream.has("run")).toBe(false);
      expect(stream.markers.at(-1)!.word).toBe(word);
    }
  });
});

/**
 * The remote program under each shell of the matrix as the host's `sh` (the
 * program runs under whatever `sh` is on the host's PATH), started in a
 * session of its own as sshd starts it. `gone()` does what sshd does when the
 * connection goes away: EOF on stdin, stdout and stderr closed.
 */
function hostSh(shell: { name: string; argv: readonly string[]; env?: Readonly<Record<string, string>> }): { path: string; env: Record<string, string> } {
  if (shell.env?.PATH !== undefined) return { path: join(shell.env.PATH, "sh"), env: { PATH: shell.env.PATH } };
  const dir = join(scratch, `sh-${shell.name.replace(/\W+/g, "-")}`);
  if (!existsSync(dir)) {
    mkdirSync(dir);
    // bash started as "sh" runs in POSIX mode.
    symlinkSync(shell.argv[0]!, join(dir, "sh"));
  }
  return { path: join(dir, "sh"), env: { PATH: `${dir}:${process.env.PATH}` } };
}

function startRemote(shell: Parameters<typeof hostSh>[0], bundle: string, tmp: string) {
  const sh = hostSh(shell);
  const nonce = "00112233445566778899aabb";
  const command = remoteCommand([nonce, String(Buffer.byteLength(bundle)), "--quiet"], false);
  const child = spawn(sh.path, ["-c", command], { env: { ...process.env, ...sh.env, TMPDIR: tmp }, stdio: ["pipe", "pipe", "pipe"], detached: true });
  const stream = new MarkerStream(nonce);
  child.stdout.setEncoding("utf8").on("data", (c: string) => stream.push(c));
  child.stderr.resume();
  child.stdin.on("error", () => {});
  child.stdin.write(programLine(RUN_PROGRAM) + bundle);
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("exit", (code, signal) => resolve([code, signal])));
  return {
    child,
    stream,
    exited,
    gone() {
      child.stdin.end();
      child.stdout.destroy();
      child.stderr.destroy();
    },
  };
}

const until = async (what: string, check: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** Processes whose command line contains `text` (Linux /proc). */
const running = (text: string) =>
  readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(text);
      } catch {
        return false;
      }
    });

describe.each(availableShells())("remote program's upload check (host sh: $name)", (shell) => {
  it("a wc that pads its count (BSD's does; a stand-in here, BSD's wc cannot run on Linux) still matches the size; a short upload names the plain count", async () => {
    const sh = hostSh(shell);
    const fake = join(scratch, "padded-wc");
    mkdirSync(fake, { recursive: true });
    const realWc = spawnSync("sh", ["-c", "command -v wc"], { encoding: "utf8", env: { PATH: sh.env.PATH ?? process.env.PATH } }).stdout.trim();
    writeFileSync(join(fake, "wc"), `#!/bin/sh\nprintf '%8s\\n' "$('${realWc}' "$@")"\n`, { mode: 0o755 });
    const env = { PATH: `${fake}:${sh.env.PATH ?? process.env.PATH}` };
    const size = Buffer.byteLength(FAKE_BUNDLE);
    const ok = await runRemote([sh.path], RUN_PROGRAM, [String(size), "--quiet"], FAKE_BUNDLE, { ...env, FAKE_EXIT: "0" });
    expect(ok.stream.markers.map((m) => m.word)).toEqual(["begin", "run", "exit", "report", "end"]);
    expect(ok.stream.get("exit")).toBe("0");
    const short = await runRemote([sh.path], RUN_PROGRAM, [String(size + 10)], FAKE_BUNDLE, env, { closeAfterMs: 200 });
    expect(short.stream.has("run")).toBe(false);
    expect(short.stream.get("fail")).toBe(`truncated ${size} of ${size + 10} bytes arrived`);
  });
});

describe.each(availableShells())("remote program when depc goes away (host sh: $name)", (shell) => {
  const id = shell.name.replace(/\W+/g, "-");

  it("the connection closes mid-run: the bundle and its long command stop at once, the upload with its secret is gone", async () => {
    const dir = mkdtempSync(join(scratch, `gone-${id}-`));
    const tmp = join(dir, "tmp");
    mkdirSync(tmp);
    // The bundle's "long command": a script of its own, so the test can see it running.
    writeFileSync(join(dir, "slow.sh"), `sleep 30\n: >'${dir}/slow-finished'\n`);
    // Traps like the runtime's: TERM, and PIPE (the shell's own "Terminated" line to a closed stderr).
    const bundle = `# SECRET-hd-1234\ntrap 'trap "" TERM PIPE; echo stopped >"${dir}/trapped"; exit 143' TERM PIPE\n: >'${dir}/started'\nsh '${dir}/slow.sh'\necho finished >'${dir}/trapped'\n`;
    const run = startRemote(shell, bundle, tmp);
    await until("the bundle to start", () => existsSync(join(dir, "started")) && running(`${dir}/slow.sh`).length > 0);
    expect(readdirSync(tmp)).toHaveLength(1);
    const t0 = Date.now();
    run.gone();
    await run.exited;
    if (shell.name === "posh") {
      // No builtin kill: the program signals the bundle alone (never a group through an
      // external kill), whose trap waits for the command; KILL after the grace time.
      expect(Date.now() - t0).toBeLessThan((STOP_GRACE_SECONDS + 3) * 1000);
      for (const pid of running(`${dir}/slow.sh`)) process.kill(Number(pid), "SIGKILL");
    } else {
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(readFileSync(join(dir, "trapped"), "utf8")).toBe("stopped\n");
      expect(running(`${dir}/slow.sh`)).toEqual([]);
    }
    expect(existsSync(join(dir, "slow-finished"))).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);
  }, 30_000);

  it("stdout gone when the bundle ends (stdin still open): the marker's SIGPIPE still cleans up", async () => {
    const dir = mkdtempSync(join(scratch, `pipe-${id}-`));
    const tmp = join(dir, "tmp");
    mkdirSync(tmp);
    const bundle = `# SECRET-hd-1234\n: >'${dir}/started'\nwhile [ ! -e '${dir}/go' ]; do sleep 0.05; done\n`;
    const run = startRemote(shell, bundle, tmp);
    await until("the bundle to start", () => existsSync(join(dir, "started")));
    run.child.stdout.destroy();
    writeFileSync(join(dir, "go"), "");
    // mksh and posh have no printf builtin: the external printf takes the SIGPIPE, the program ends normally.
    expect(await run.exited).toEqual([["mksh", "posh"].includes(shell.name) ? 0 : 141, null]);
    expect(readdirSync(tmp)).toEqual([]);
    run.child.stdin.end();
  });

  it("a run removes the upload dirs of earlier runs whose program is gone (SIGKILL), not those of live ones, and day-old ones of older depc versions", async () => {
    const tmp = mkdtempSync(join(scratch, `sweep-${id}-`));
    const dead = spawnSync("true").pid;
    // The last two: names from before the pid was in them, a fresh one (a run may be using it) and one two days old.
    for (const name of [`depc-run.${dead}.a1b2c3`, `depc-run.${process.pid}.d4e5f6`, "depc-runner", "depc-run.XyZ123", "depc-run.AbC456"]) {
      mkdirSync(join(tmp, name), { mode: 0o700 });
      writeFileSync(join(tmp, name, "b.sh"), "# SECRET-hd-1234\n");
    }
    const old = new Date(Date.now() - 2 * 86_400_000);
    utimesSync(join(tmp, "depc-run.AbC456"), old, old);
    // Another user's (nobody's) dead run: not this user's to delete.
    if (process.getuid?.() === 0) {
      mkdirSync(join(tmp, `depc-run.${dead}.nobody`), { mode: 0o700 });
      chownSync(join(tmp, `depc-run.${dead}.nobody`), 65534, 65534);
    }
    const run = startRemote(shell, "exit 0\n", tmp);
    run.child.stdout.on("data", () => {
      if (run.stream.has("end")) run.child.stdin.end();
    });
    expect(await run.exited).toEqual([0, null]);
    const kept = [`depc-run.${dead}.nobody`, `depc-run.${process.pid}.d4e5f6`, "depc-run.XyZ123", "depc-runner"];
    // posh has no `test -O`: it leaves them all.
    const left = shell.name === "posh" ? [...kept, `depc-run.${dead}.a1b2c3`, "depc-run.AbC456"] : process.getuid?.() === 0 ? kept : kept.filter((f) => !f.endsWith("nobody"));
    expect(readdirSync(tmp).sort()).toEqual(left.sort());
  });
});

describe("marker stream", () => {
  it("splits chunks at any byte, finds markers mid-line, ignores other nonces", () => {
    const text = "pre\n@@N1 begin\n@@N1 run\nline one\npartial@@N1 exit 1\n@@N1 report\n{}\n@@N1 end\n";
    for (let cut = 0; cut < text.length; cut++) {
      const out: string[] = [];
      const s = new MarkerStream("N1", { output: (l) => out.push(l) });
      s.push(text.slice(0, cut));
      s.push(text.slice(cut));
      s.end();
      expect(out).toEqual(["line one", "partial"]);
      expect(s.preamble).toEqual(["pre"]);
      expect(s.get("exit")).toBe("1");
      expect(s.reportLines).toEqual(["{}"]);
    }
  });
});

describe("failure causes", () => {
  const none = new MarkerStream("x");
  const ssh = (stderr: string, code = 255) => classify({ code, signal: null, stderr, stream: none, sudo: true });
  it.each([
    ["ssh: connect to host 10.0.0.1 port 22: Connection refused", "unreachable", /connection refused/],
    ["ssh: Could not resolve hostname nope: Name or service not known", "unreachable", /cannot resolve/],
    ["ssh: connect to host 10.0.0.1 port 22: No route to host", "unreachable", /no route/],
    ["ssh: connect to host 10.0.0.1 port 22: Connection timed out", "unreachable", /timed out/],
    ["@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@\nHost key verification failed.", "host-key", /wrong host key/],
    ["No ED25519 host key is known for h1 and you have requested strict checking.\nHost key verification failed.", "host-key", /not in known_hosts/],
    ["deploy@10.0.0.1: Permission denied (publickey).", "permission-denied", /permission denied/],
    ["Connection to h1 closed by remote host.", "connection-lost", /connection lost/],
  ])("ssh exit 255: %s", (stderr, kind, message) => {
    const outcome = ssh(stderr);
    expect(outcome.ran).toBe(false);
    expect(outcome.cause).toMatchObject({ kind });
    expect(outcome.cause!.message).toMatch(message);
    expect(outcome.cause!.message).not.toMatch(/\n/);
  });

  it("sudo, sh, lock and disk full", () => {
    expect(ssh("sudo: a password is required", 1).cause).toMatchObject({ kind: "sudo", message: expect.stringMatching(/sudo wants a password/) });
    expect(ssh("bash: line 1: sh: command not found", 127).cause).toMatchObject({ kind: "no-sh" });
    const ran = (exit: number, stderr: string) => {
      const s = new MarkerStream("n");
      s.push(`@@n begin\n@@n run\n@@n exit ${exit}\n@@n end\n`);
      return classify({ code: exit, signal: null, stderr, stream: s, sudo: false });
    };
    expect(ran(3, "depc: prod/h1: another run holds the lock: pid 42 since 10:00 by root\n")).toEqual({
      ran: true,
      exit: 3,
      cause: { kind: "locked", message: "another run holds the lock: pid 42 since 10:00 by root" },
    });
    expect(ran(0, "")).toEqual({ ran: true, exit: 0 });
    const full = new MarkerStream("n");
    full.push("@@n begin\n@@n fail upload cat: write error: No space left on device \n");
    expect(classify({ code: 72, signal: null, stderr: "", stream: full, sudo: false }).cause).toMatchObject({ kind: "disk-full" });
    const lost = new MarkerStream("n");
    lost.push("@@n begin\n@@n run\n");
    expect(classify({ code: 255, signal: null, stderr: "Connection to db1 closed by remote host.\n", stream: lost, sudo: false }).cause?.message).toMatch(
      /^connection lost .* while the bundle ran/,
    );
  });

  it("who went away while the bundle ran, and what to do: exact texts", () => {
    const ended = (markers: string, over: { code?: number | null; signal?: NodeJS.Signals | null; stderr?: string; timedOutAfter?: number; interrupted?: boolean }) => {
      const s = new MarkerStream("n");
      s.push(markers);
      return classify({ code: null, signal: null, stderr: "", stream: s, sudo: false, ...over }).cause;
    };
    const running = "@@n begin\n@@n run\n";
    const stops = "the host stops the bundle within 10s";
    expect(ended(running, { signal: "SIGKILL" })).toEqual({
      kind: "connection-lost",
      message: `the local ssh client was killed (SIGKILL) while the bundle ran; ${stops}: run 'depc deploy' again, it converges`,
    });
    expect(ended("@@n begin\n", { signal: "SIGKILL" })).toEqual({ kind: "connection-lost", message: "the local ssh client was killed (SIGKILL) while uploading the bundle" });
    expect(ended(running, { code: 255, stderr: "Connection to db1 closed by remote host.\r\n" })).toEqual({
      kind: "connection-lost",
      message: `connection lost (Connection to db1 closed by remote host.) while the bundle ran; ${stops}: run 'depc deploy' again, it converges`,
    });
    // The network, not the host: the host may not know yet.
    expect(ended(running, { code: 255, stderr: "Timeout, server db1 not responding.\r\n" })).toEqual({
      kind: "connection-lost",
      message: "connection lost (Timeout, server db1 not responding.) while the bundle ran; the host may finish the bundle on its own: run 'depc deploy' again, it converges",
    });
    // OpenSSH says nothing when the remote command died of a signal, nor a ControlMaster's client when the master's connection closed.
    expect(ended(running, { code: 255 })).toEqual({
      kind: "connection-lost",
      message: "ssh ended without a message (exit 255: the connection closed, or the remote program was killed on the host) while the bundle ran; run 'depc deploy' again, it converges",
    });
    expect(ended(running, { code: 129 })).toEqual({ kind: "connection-lost", message: "the remote side ended (exit 129) while the bundle ran; run 'depc deploy' again, it converges" });
    expect(ended(running, { signal: "SIGTERM", timedOutAfter: 30 })).toEqual({ kind: "timeout", message: `timed out after 30s while the bundle ran; ${stops}` });
    expect(ended("@@n begin\n", { signal: "SIGTERM", timedOutAfter: 30 })).toEqual({ kind: "timeout", message: "timed out after 30s" });
    // depc's own stop (--timeout, Ctrl-C) reported back by the host before ssh ended: still depc's stop.
    expect(ended(`${running}@@n exit 143\n@@n end\n`, { code: 143, timedOutAfter: 30 })).toEqual({ kind: "timeout", message: `timed out after 30s while the bundle ran; ${stops}` });
    expect(ended(`${running}@@n exit 143\n@@n end\n`, { code: 143, interrupted: true })).toEqual({ kind: "interrupted", message: "interrupted" });
    // A bundle that ended on its own just before the timeout keeps its result.
    const converged = new MarkerStream("n");
    converged.push(`${running}@@n exit 0\n@@n end\n`);
    expect(classify({ code: 0, signal: null, stderr: "", stream: converged, sudo: false, timedOutAfter: 30 })).toEqual({ ran: true, exit: 0 });
    // The remote program reported the bundle's status: ended by a signal on the host.
    expect(ended(`${running}@@n exit 137\n@@n end\n`, { code: 137 })).toEqual({ kind: "interrupted", message: "the bundle was killed on the host (SIGKILL, exit 137)" });
    expect(ended(`${running}@@n exit 143\n@@n end\n`, { code: 143, stderr: "depc: prod/h1: interrupted\n" })).toEqual({
      kind: "interrupted",
      message: "the bundle was interrupted (exit 143, SIGTERM): interrupted",
    });
  });

  it("classifySsh falls back to ssh's last line", () => {
    expect(classifySsh("Warning: Permanently added 'x' (ED25519) to the list of known hosts.\nsomething odd\n")).toEqual({ kind: "ssh", message: "ssh failed: something odd" });
  });
});

describe("rollback choice", () => {
  const [a, b, c] = ["a", "b", "c"].map((x) => x.repeat(64)) as [string, string, string];
  const files = [`${c}.sh`, `${b}.sh`, `${a}.sh`, "junk.txt"];
  const line = (t: number, d: string, mode: string) => `2026-11-24T10:0${t}:00Z ${d} ${mode} converged ok=1 changed=0 failed=0 not_run=0 env=prod host=h1 user=check`;
  it("bundles/.order decides: current is its last line, the target the one before", () => {
    expect(chooseRollback(files, [], undefined, [a, c, b])).toEqual({ ok: true, digest: c, current: b });
    // Digests no longer kept are passed over.
    expect(chooseRollback([`${a}.sh`, `${b}.sh`], [], undefined, [a, c, b])).toEqual({ ok: true, digest: a, current: b });
  });
  it("without .order: the apply lines of runs.log (the runtime's format); check runs do not count", () => {
    const log = [line(1, a, "apply"), line(2, b, "apply"), line(3, c, "check"), line(4, c, "apply")];
    expect(chooseRollback(files, log)).toEqual({ ok: true, digest: b, current: c });
    // After rolling back to b: b is current, c the one before.
    expect(chooseRollback(files, [...log, line(5, b, "apply")])).toEqual({ ok: true, digest: c, current: b });
    // Another format: any 64-hex word, preferring one that names a kept bundle.
    expect(chooseRollback(files, [`t1 sha256:${"f".repeat(64)} sha256:${a} ok`, `t2 ${b} ok`])).toEqual({ ok: true, digest: a, current: b });
  });
  it("without .order or a log, orders by the kept files (newest first)", () => {
    expect(chooseRollback(files, [])).toEqual({ ok: true, digest: b, current: c });
  });
  it("--to takes a unique prefix, with or without sha256:; a miss lists what is kept", () => {
    expect(chooseRollback(files, [], `sha256:${a.slice(0, 8)}`)).toMatchObject({ ok: true, digest: a });
    const miss = chooseRollback(files, [line(1, c, "apply")], "dddd");
    expect(miss).toMatchObject({ ok: false, message: "no kept bundle matches dddd" });
    expect(miss.ok ? [] : miss.listing).toEqual([`  ${c.slice(0, 12)}  current  ${line(1, c, "apply")}`, `  ${b.slice(0, 12)}`, `  ${a.slice(0, 12)}`]);
    expect(chooseRollback(files, [], "zz")).toMatchObject({ ok: false, message: expect.stringMatching(/not a digest/) });
    expect(chooseRollback(files, [], "")).toMatchObject({ ok: false });
    expect(normalizeDigest(" SHA256:ABCD ")).toBe("abcd");
  });
  it("nothing to roll back to", () => {
    expect(chooseRollback([`${a}.sh`], [])).toMatchObject({ ok: false, message: expect.stringMatching(/only the current/) });
    expect(chooseRollback([], [])).toMatchObject({ ok: false, message: expect.stringMatching(/no kept bundles/) });
  });
});

describe("dependencies and scheduling", () => {
  const host = (name: string, after?: string[]) => ({ name, address: name, bundle: `${name}.sh`, digest: "", resources: 1, ...(after ? { after } : {}) });
  it("uses per-host after when the manifest has it, else the waves", () => {
    expect(hostDependencies([host("db"), host("app", ["db"]), host("x")], [["db", "x"], ["app"]]).deps).toEqual(
      new Map([["db", []], ["app", ["db"]], ["x", []]]),
    );
    const waves = hostDependencies([host("db"), host("app"), host("lb")], [["db"], ["app"], ["lb"]]);
    expect(waves.source).toBe("waves");
    expect(waves.deps.get("lb")).toEqual(["db", "app"]);
  });

  it("the compiler decides who waits for whom once (manifest after and waves); deploy reads exactly that", async () => {
    const expected: Record<string, { after: Record<string, string[]>; waves: string[][] }> = {
      "django/prod": { after: { db: [], web1: ["db"], web2: ["web1", "db"], lb: ["web1", "web2"] }, waves: [["db"], ["web1"], ["web2"], ["lb"]] },
      "django/staging": { after: { staging: [] }, waves: [["staging"]] },
      "django-hello/dev": { after: { localhost: [] }, waves: [["localhost"]] },
      "django-hello/prod": { after: { web1: [], web2: [] }, waves: [["web1", "web2"]] },
      "hello/prod": { after: { web1: [], web2: [] }, waves: [["web1", "web2"]] },
      "pull/prod": { after: { web1: [], db1: [], legacy1: [] }, waves: [["web1", "db1", "legacy1"]] },
      "webcluster/prod": { after: { lb1: ["app1", "app2"], app1: ["db1"], app2: ["db1"], db1: [] }, waves: [["db1"], ["app1", "app2"], ["lb1"]] },
      "webcluster/staging": { after: { "staging-lb": ["staging-app"], "staging-app": [] }, waves: [["staging-app"], ["staging-lb"]] },
    };
    const seen: string[] = [];
    for (const { example, env, path } of exampleEnvironments()) {
      // examples/django uses secrets: placeholders, as for the goldens.
      const { manifest } = await compile(path, { cwd: repoRoot, cacheDir: false, placeholderSecrets: true });
      const after = Object.fromEntries(manifest!.hosts.map((h) => [h.name, h.after]));
      expect({ after, waves: manifest!.waves }).toEqual(expected[`${example}/${env}`]);
      const read = hostDependencies(manifest!.hosts, manifest!.waves);
      expect(read.source).toBe("manifest");
      expect(Object.fromEntries(read.deps)).toEqual(after);
      seen.push(`${example}/${env}`);
    }
    expect(seen.sort()).toEqual(Object.keys(expected).sort());
  });

  it("a failure skips its dependents (transitively), independent hosts carry on, at most `jobs` run", async () => {
    const deps = new Map([["db", []], ["app1", ["db"]], ["app2", ["db"]], ["lb", ["app1", "app2"]], ["x", []], ["y", []]]);
    let running = 0;
    let most = 0;
    const ran: string[] = [];
    const results = await schedule<string>(["db", "app1", "app2", "lb", "x", "y"], deps, 2, {
      run: async (h) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        ran.push(h);
        return h === "db" ? "failed" : "ok";
      },
      succeeded: (r) => r === "ok",
      skip: (h, dep, failed) => `skipped ${h}: ${dep} ${failed ? "failed" : "skipped"}`,
    });
    expect(most).toBe(2);
    expect(ran.sort()).toEqual(["db", "x", "y"]);
    expect(results.get("app1")).toBe("skipped app1: db failed");
    expect(results.get("lb")).toMatch(/^skipped lb: app[12] skipped$/);
  });

  it("hosts wait only for their own providers", async () => {
    const order: string[] = [];
    await schedule<string>(["db", "slow", "app"], new Map([["app", ["db"]]]), 8, {
      run: async (h) => {
        order.push(`start ${h}`);
        await new Promise((r) => setTimeout(r, h === "slow" ? 50 : 5));
        order.push(`end ${h}`);
        return "ok";
      },
      succeeded: () => true,
      skip: () => "skipped",
    });
    expect(order.indexOf("start app")).toBeLessThan(order.indexOf("end slow"));
    expect(order.indexOf("start app")).toBeGreaterThan(order.indexOf("end db"));
  });

  it("--limit/--skip name known hosts", () => {
    const hosts = [host("a"), host("b"), host("c")];
    expect(selectHosts(hosts, ["a", "c"], ["c"])).toEqual({ ok: true, names: ["a"] });
    expect(selectHosts(hosts, ["z"], [])).toEqual({ ok: false, message: 'unknown host "z"; the hosts are: a, b, c' });
  });
});

describe("results", () => {
  it("pairs report entries with printed lines and diffs; counts diff lines", () => {
    const out = new OutputCollector();
    for (const l of [
      "would change  file /srv/a.ini (content, mode 0600 -> 0644)",
      "--- /srv/a.ini",
      "+++ /srv/a.ini (depc)",
      "@@ -1,2 +1,2 @@",
      " same",
      "-old",
      "+new",
      "+more",
      "depc: prod/h1 (check): 2 resources: 1 would change, 1 ok",
    ])
      out.push(l);
    const report = [
      `{"index":1,"kind":"directory","key":"/srv","status":"ok","changes":[]}`,
      `{"index":2,"kind":"file","key":"/srv/a.ini","status":"would change","changes":["content","mode"]}`,
      `{"summary":{"resources":2,"ok":1,"changed":0,"would_change":1,"failed":0,"not_run":0,"exit":2}}`,
    ];
    const { resources, counts } = collectResources(report, out, "check", 2);
    expect(counts).toEqual({ resources: 2, ok: 1, changed: 0, wouldChange: 1, failed: 0, notRun: 0, removed: 0, wouldRemove: 0, notRemoved: 0, removalFailed: 0 });
    expect(resources[1]).toMatchObject({ key: "/srv/a.ini", detail: "content, mode 0600 -> 0644", diff: { added: 2, removed: 1 } });
    expect(resources[1]!.diffText).toContain("+more");
    expect(diffStat(["Binary content differs (sha256 a -> b)"])).toEqual({ added: 0, removed: 0, binary: true });
  });

  it("removals: their lines, the diff of a file's content going away, and their counts", () => {
    const out = new OutputCollector();
    for (const l of [
      "would remove  program /etc/supervisor/conf.d/old.conf (stopped, config removed)",
      "ok            file /srv/a.ini",
      "would remove  file /srv/old.ini",
      "--- /srv/old.ini",
      "+++ /srv/old.ini (depc)",
      "@@ -1,2 +0,0 @@",
      "-one",
      "-two",
      "kept          file /srv/audit.log (keep: true)",
      "depc: prod/h1 (check): 1 resources: 0 would change, 1 ok, 2 would remove",
    ])
      out.push(l);
    const report = [
      `{"removal":true,"kind":"program","key":"/etc/supervisor/conf.d/old.conf","status":"would remove","changes":["removed"]}`,
      `{"index":1,"kind":"file","key":"/srv/a.ini","status":"ok","changes":[]}`,
      `{"removal":true,"kind":"file","key":"/srv/old.ini","status":"would remove","changes":["removed"]}`,
      `{"removal":true,"kind":"file","key":"/srv/audit.log","status":"kept","changes":[]}`,
      `{"summary":{"resources":1,"ok":1,"changed":0,"would_change":0,"failed":0,"not_run":0,"removed":0,"would_remove":2,"not_removed":0,"removal_failed":0,"exit":2}}`,
    ];
    const { resources, counts } = collectResources(report, out, "check", 1);
    expect(counts).toEqual({ resources: 1, ok: 1, changed: 0, wouldChange: 0, failed: 0, notRun: 0, removed: 0, wouldRemove: 2, notRemoved: 0, removalFailed: 0 });
    expect(resources[0]).toMatchObject({ removal: true, kind: "program", status: "would remove", detail: "stopped, config removed" });
    expect(resources[2]).toMatchObject({ removal: true, key: "/srv/old.ini", diff: { added: 0, removed: 2 } });
    expect(resources[3]).toMatchObject({ removal: true, status: "kept", detail: "keep: true" });
    // Without a report (a run cut short): from the printed lines alone.
    expect(collectResources([], out, "check", 1).counts).toMatchObject({ ok: 1, wouldRemove: 2, notRun: 0 });
  });
});

describe("reading a build (--from)", () => {
  const bundle = "#!/bin/sh\n{\necho hi\n}\n";
  const digest = `sha256:${createHash("sha256").update(bundle).digest("hex")}`;
  const write = (manifest: object) => {
    const dir = mkdtempSync(join(scratch, "build-"));
    writeFileSync(join(dir, "h1.sh"), bundle);
    chmodSync(join(dir, "h1.sh"), 0o700);
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
    return dir;
  };
  const base = { depc: "0", environment: "prod", sources: "", waves: [["h1"]] };
  it("checks each bundle against its digest", () => {
    const dir = write({ ...base, hosts: [{ name: "h1", address: "h1", bundle: "h1.sh", digest, resources: 1 }] });
    expect(readBuild(dir, scratch).ok).toBe(true);
    writeFileSync(join(dir, "h1.sh"), `${bundle}# edited\n`);
    const r = readBuild(dir, scratch);
    expect(r).toMatchObject({ ok: false, message: expect.stringMatching(/h1\.sh does not match the digest in manifest\.json/) });
  });
  it("refuses addresses ssh would take for options", () => {
    const dir = write({ ...base, hosts: [{ name: "h1", address: "-oProxyCommand=touch /x", bundle: "h1.sh", digest, resources: 1 }] });
    expect(readBuild(dir, scratch)).toMatchObject({ ok: false, message: expect.stringMatching(/invalid address/) });
    expect(readBuild(join(scratch, "nothing"), scratch)).toMatchObject({ ok: false, message: expect.stringMatching(/no manifest\.json/) });
  });
});

describe("ssh argv", () => {
  it("user options first (ssh keeps the first value), -l/-p, then -- and the destination", () => {
    const argv = sshArgv({ address: "db1", user: "deploy", port: 2222 }, { configFile: "/c", options: ["batchmode=no", "ProxyJump=a,b"] }, "CMD");
    expect(argv).toEqual(["-F", "/c", "-o", "batchmode=no", "-o", "ProxyJump=a,b", "-T", "-l", "deploy", "-p", "2222", "--", "db1", "CMD"]);
    expect(sshArgv({ address: "h" }, { options: [] }, "C")).toEqual(["-o", "BatchMode=yes", "-T", "--", "h", "C"]);
    expect(() => sshArgv({ address: "-oProxyCommand=x" }, { options: [] }, "C")).toThrow();
  });
  it("the built bin answers --help for the three commands", () => {
    const bin = join(__dirname, "..", "..", "bin", "depc.js");
    for (const cmd of ["deploy", "plan", "rollback"]) {
      const r = spawnSync(process.execPath, [bin, cmd, "--help"], { encoding: "utf8" });
      expect(r.status).toBe(0);
      expect(r.stdout).toContain("--ssh-config");
      expect(r.stdout).toContain("--limit");
    }
    expect(readFileSync(bin, "utf8")).toContain("main");
    const decommission = spawnSync(process.execPath, [bin, "decommission", "--help"], { encoding: "utf8" });
    expect(decommission.status).toBe(0);
    expect(decommission.stdout).toContain("--host");
    expect(decommission.stdout).toContain("--yes");
    const noHost = spawnSync(process.execPath, [bin, "decommission", "env/prod"], { encoding: "utf8" });
    expect(noHost.status).toBe(1);
    expect(noHost.stderr).toContain("Missing required argument: host");
  });
});
