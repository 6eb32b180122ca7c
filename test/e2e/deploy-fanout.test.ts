// End-to-end: a deploy of ten independent hosts (the rollout bench's second
// environment, test/bench/rollout.mjs) as a user runs it: the built bin over
// the system's OpenSSH to ten real test hosts. By default all ten run at once,
// each in a session opened before the build; DEPC_TRACE=1 shows that path.
// Needs root (see test/testbed/README.md): skipped with a message elsewhere,
// a failure in CI.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, repoRoot } from "../support/project.js";
import { Testbed, testbedPrerequisites } from "../testbed/index.js";

const pre = testbedPrerequisites({ systemd: false });
if (!pre.ok) {
  if (process.env.CI === "true") {
    throw new Error(`test bed prerequisites missing in CI:\n  ${pre.missing.join("\n  ")}\n${pre.howTo}`);
  }
  console.warn(`[deploy fan-out e2e] skipping: ${pre.missing.join("; ")}.\n${pre.howTo}`);
}

const HOSTS = Array.from({ length: 10 }, (_, i) => `i${i + 1}`);
const ENV = [
  'import { environment, Directory, File } from "depc";',
  "export default environment({",
  "  hosts: {",
  ...HOSTS.map((h) => `    ${h}: [Directory({ path: "/srv/fan" }), File({ path: "/srv/fan/i.conf", content: "host = ${h}\\n" })],`),
  "  },",
  "});",
  "",
].join("\n");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json: { hosts: { name: string; status: string; counts?: { changed: number }; timings: { started_at_ms: number; duration_ms: number } }[] };
}

describe.skipIf(!pre.ok)("depc deploy to ten independent hosts (real hosts)", () => {
  let bed: Testbed;
  let project: { dir: string; cleanup: () => void };
  let runs = 0;

  const depc = (args: string[], env: Record<string, string> = {}) =>
    new Promise<Run>((resolve) => {
      const json = join(project.dir, `run-${++runs}.json`);
      const argv = [join(repoRoot, "bin", "depc.js"), "deploy", "env/ten", "-F", bed.sshConfigFile, "-o", "ControlPath=none", "--json", json, ...args];
      const child = spawn(process.execPath, argv, { cwd: project.dir, env: { ...process.env, NO_COLOR: "1", DEPC_TRACE: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      child.on("close", (code) => resolve({ code, stdout, stderr, json: JSON.parse(readFileSync(json, "utf8")) }));
    });
  const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  /** Every host started (was handed its bundle) before any host ended: they ran at once. */
  const allAtOnce = (r: Run) => {
    const firstEnd = Math.min(...r.json.hosts.map((h) => h.timings.started_at_ms + h.timings.duration_ms));
    return r.json.hosts.filter((h) => h.timings.started_at_ms >= firstEnd).map((h) => h.name);
  };

  beforeAll(async () => {
    bed = await Testbed.start({ hosts: HOSTS.map((name) => ({ name })) });
    project = makeProject({ "env/ten.ts": ENV });
  }, 600_000);

  afterAll(async () => {
    project?.cleanup();
    await bed?.stop();
  }, 120_000);

  it("by default all ten hosts run at once (--jobs 10); with -j 8 two wait for a free slot", async () => {
    const first = await depc([]);
    expect(first.code, show(first)).toBe(0);
    expect(first.stdout).toMatch(/^depc: deployed ten: 10 hosts: 10 converged \(20 resources changed\) in \d+\.\d\ds$/m);
    for (const h of HOSTS) expect((await bed.exec(h, "cat /srv/fan/i.conf")).stdout).toBe(`host = ${h}\n`);
    expect(allAtOnce(first), show(first)).toEqual([]);

    const eight = await depc(["-j", "8"]);
    expect(eight.code, show(eight)).toBe(0);
    expect(allAtOnce(eight), show(eight)).toHaveLength(2);
  });

  it("DEPC_TRACE=1: the no-op deploy's path on stderr, sessions spawned before the build, every bundle sent before any result", async () => {
    const r = await depc([], { DEPC_TRACE: "1" });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^depc: deployed ten: 10 hosts: 10 converged \(0 resources changed\) in \d+\.\d\ds$/m);
    const trace = r.stderr.split("\n").filter((l) => l !== "");
    // Every stderr line is a trace line: seconds since the process started, then the event.
    for (const l of trace) expect(l).toMatch(/^\+\d+\.\d{3}s \S/);
    const events = trace.map((l) => l.replace(/^\+\d+\.\d{3}s /, ""));
    const at = (event: string) => {
      const i = events.indexOf(event);
      expect(i, `${event} in\n${events.join("\n")}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    expect(events[0]).toMatch(/^node bootstrapped \(V8 started \+\d+\.\d{3}s\)$/);
    expect(events.slice(1, 3)).toEqual(["deploy commands loaded", "deploy: arguments parsed"]);
    for (const h of HOSTS) expect(at(`${h}: ssh spawned`)).toBeLessThan(at("early: 10 sessions spawned"));
    expect(at("early: previous manifest read")).toBeLessThan(at("i1: ssh spawned"));
    expect(at("early: 10 sessions spawned")).toBeLessThan(at("build starts"));
    expect(at("build starts")).toBeLessThan(at("build done"));
    expect(at("build done")).toBeLessThan(at("runHosts starts"));
    const lastSend = Math.max(...HOSTS.map((h) => at(`${h}: send`)));
    const firstResult = Math.min(...HOSTS.map((h) => at(`${h}: result`)));
    expect(lastSend).toBeLessThan(firstResult);
    for (const h of HOSTS) for (const word of ["begin", "run", "exit", "report", "end"]) at(`${h}: marker ${word}`);
    // No session is spawned after the build: all ten were opened early and taken.
    expect(events.filter((e) => e.endsWith(": ssh spawned"))).toHaveLength(10);
    expect(events.slice(-4)).toEqual(["every host done", "JSON report written", "hosts done", "exit 0"]);
    // Off by default (and for any other value): not one trace line.
    const quiet = await depc([], { DEPC_TRACE: "yes" });
    expect(quiet.code, show(quiet)).toBe(0);
    expect(quiet.stderr).toBe("");
  });
});
