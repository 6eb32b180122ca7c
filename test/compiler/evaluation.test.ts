/**
 * Issue 13, finding 6: a model could make depc exit wrongly or hang —
 * process.exit(0) in a build exited 0 with nothing written, an unhandled
 * rejection printed Node's raw stack, a timer that threw later crashed
 * depc after the build was written, a leftover setInterval kept `depc
 * build` alive after "built", an endless loop ran forever. Each is now a
 * diagnostic at the model's line with exit code 1, and evaluation has a
 * time limit. The CLI as a user runs it: the built bin, a real process.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { compileFiles, makeProject, repoRoot } from "../support/project.js";

const bin = join(repoRoot, "bin", "depc.js");
let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

/** Runs `depc build` on a model whose component's build runs `body`; a hang is killed after 30 s. */
function build(body: string, ...args: string[]) {
  const p = makeProject({
    "env/prod.ts": `import { component, environment, File } from "depc";
declare const process: { exit(code?: number): never };
declare function setTimeout(f: () => void, ms: number): { unref(): unknown };
declare function setInterval(f: () => void, ms: number): unknown;
const app = component({
  name: "app",
  settings: {},
  build() {
    File({ path: "/etc/motd", content: "hi\\n" });
${body}
  },
});
export default environment({ hosts: { web1: [app] } });
`,
  });
  cleanup = p.cleanup;
  const started = performance.now();
  const r = spawnSync(process.execPath, [bin, "build", "env/prod", ...args], { cwd: p.dir, encoding: "utf8", timeout: 30_000, env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - started) / 1000, built: existsSync(join(p.dir, "build/prod/web1.sh")) };
}

const frame = (line: number, text: string, column: number, length: number) => `\n${line} ${text}\n${" ".repeat(String(line).length + column)}${"~".repeat(length)}\n\n`;
// (column is 1-based: the frame's "10 " prefix is one longer than the line number.)
const trailer = "\nFound 1 error. No bundle was written.\n";

describe("a model cannot end, crash or hang depc", () => {
  it("DEPC1010: process.exit() in a build is a diagnostic at the call, exit 1, nothing written", () => {
    const r = build("    process.exit(0);");
    expect(r).toMatchObject({ code: 1, stdout: "", built: false });
    expect(r.stderr).toBe(
      "env/prod.ts:10:13 - error DEPC1010: The model called process.exit(0) while it was evaluated; a model cannot end depc. Throw an Error to stop the build with a message.\n" +
        frame(10, "    process.exit(0);", 13, 4) +
        trailer,
    );
  });

  it("DEPC1010 also when the model catches what process.exit() threw", () => {
    const r = build("    try { process.exit(3); } catch { /* carry on */ }");
    expect(r).toMatchObject({ code: 1, built: false });
    expect(r.stderr).toContain("env/prod.ts:10:19 - error DEPC1010: The model called process.exit(3) while it was evaluated;");
  });

  it("DEPC1011: an endless loop is stopped at the time limit, with how to raise it", () => {
    const r = build("    for (;;) {}", "--eval-timeout", "1");
    expect(r).toMatchObject({ code: 1, stdout: "", built: false });
    expect(r.stderr).toBe(
      "error DEPC1011: Evaluating the model took longer than 1 s, so it was stopped (an endless loop?). If it really needs longer, raise the limit: --eval-timeout SECONDS (or DEPC_EVAL_TIMEOUT).\n" +
        trailer,
    );
    expect(r.seconds).toBeLessThan(15);
  });

  it("DEPC1012: a timer that would throw after the build is a diagnostic, and never runs", () => {
    const r = build('    setTimeout(() => { throw new Error("late"); }, 50);');
    expect(r).toMatchObject({ code: 1, stdout: "", built: false });
    expect(r.stderr).toBe(
      "env/prod.ts:10:5 - error DEPC1012: The model started setTimeout() and left it pending: a model is evaluated once, synchronously, so its timers never run (depc cleared it). Compute the value directly instead.\n" +
        frame(10, '    setTimeout(() => { throw new Error("late"); }, 50);', 5, 10) +
        trailer,
    );
  });

  it("DEPC1012: a leftover setInterval does not keep depc alive", () => {
    const r = build("    setInterval(() => {}, 1000);");
    expect(r).toMatchObject({ code: 1, signal: null, built: false });
    expect(r.stderr).toContain("env/prod.ts:10:5 - error DEPC1012: The model started setInterval() and left it pending:");
    expect(r.seconds).toBeLessThan(15);
  });

  it("an unref'd timer (a library's housekeeping) is cleared without a word", () => {
    const r = build("    setTimeout(() => { throw new Error(\"late\"); }, 300).unref();");
    expect(r.stderr).toBe("");
    expect(r).toMatchObject({ code: 0, built: true });
  });

  it("DEPC1013: a rejected promise nobody handles is a diagnostic at the throw, not Node's stack", () => {
    const r = build('    void (async () => {\n      throw new Error("no database");\n    })();');
    expect(r).toMatchObject({ code: 1, stdout: "", built: false });
    expect(r.stderr).toBe(
      "env/prod.ts:11:13 - error DEPC1013: The model's asynchronous code failed: Error: no database. A model is evaluated synchronously: a promise it starts is never awaited.\n" +
        frame(11, '      throw new Error("no database");', 13, 3) +
        trailer,
    );
  });

  it("--eval-timeout must be a positive number of seconds", () => {
    const r = build("", "--eval-timeout", "0");
    expect(r).toMatchObject({ code: 1, built: false });
    expect(r.stderr).toBe("depc: --eval-timeout must be a positive number of seconds, not 0\nRun 'depc --help' for usage.\n");
  });
});

describe("the guard inside a longer-lived process (here: the test runner)", () => {
  it("reports what the model left behind, then restores process.exit, the timers and the process' own handlers", async () => {
    const exit = process.exit;
    const timers = [globalThis.setTimeout, globalThis.setInterval, globalThis.setImmediate];
    const handlers = [process.listenerCount("unhandledRejection"), process.listenerCount("uncaughtException")];
    const result = await compileFiles({
      "env/prod.ts": `import { environment, File } from "depc";
declare function setInterval(f: () => void, ms: number): unknown;
declare function queueMicrotask(f: () => void): void;
setInterval(() => {}, 10);
void Promise.reject(new Error("nobody listens"));
queueMicrotask(() => { throw new TypeError("in a microtask"); });
export default environment({ hosts: { web1: [File({ path: "/etc/motd", content: "x" })] } });
`,
    });
    expect(result.ok).toBe(false);
    expect(result.diagnostics.map((d) => `${d.location?.line}:${d.code}: ${d.message.split(".")[0]}`)).toEqual([
      "4:DEPC1012: The model started setInterval() and left it pending: a model is evaluated once, synchronously, so its timers never run (depc cleared it)",
      "5:DEPC1013: The model's asynchronous code failed: Error: nobody listens",
      "6:DEPC1013: The model's asynchronous code failed: TypeError: in a microtask",
    ]);
    expect(process.exit).toBe(exit);
    expect([globalThis.setTimeout, globalThis.setInterval, globalThis.setImmediate]).toEqual(timers);
    expect([process.listenerCount("unhandledRejection"), process.listenerCount("uncaughtException")]).toEqual(handlers);
  });
});
