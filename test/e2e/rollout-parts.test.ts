// The parts of rolling deploys that need no test hosts:
// - the drain programs (tools/deploy/drain.ts) under each of the six shells,
//   against a real HAProxy (Debian's haproxy package, installed on this
//   machine by .ci/run) and its admin socket, through runDrain itself; ssh
//   is the one stand-in: a script that runs the remote command locally with
//   the shell under test as `sh`;
// - the scheduler with a rollout's batches (deps.ts + rollout.ts), with
//   stand-in host runs that only take time.
// The whole thing over real ssh, with HAProxy in front of three app hosts,
// is test/e2e/rollout.test.ts.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManifestDrain } from "../../compiler/emit/manifest.js";
import { schedule } from "../../tools/deploy/deps.js";
import { COMMAND_PROGRAM, HAPROXY_PROGRAM, runDrain, type DrainRunContext } from "../../tools/deploy/drain.js";
import { Rollout } from "../../tools/deploy/rollout.js";
import { readBuild } from "../../tools/deploy/source.js";
import { createHash } from "node:crypto";
import { availableShells, requireTool, which } from "../support/shells.js";

const scratch = mkdtempSync(join(tmpdir(), "depc-rollout-parts-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("drain programs", () => {
  it("are one line each and shellcheck-clean", () => {
    for (const p of [HAPROXY_PROGRAM, COMMAND_PROGRAM]) expect(p).not.toContain("\n");
    if (!requireTool("shellcheck")) return;
    for (const program of [HAPROXY_PROGRAM, COMMAND_PROGRAM]) {
      const r = spawnSync("shellcheck", ["-s", "sh", "-"], { input: `${program}\n`, encoding: "utf8" });
      expect(r.stdout + r.stderr).toBe("");
    }
  });
});

const haveHaproxy = requireTool("haproxy") && requireTool("socat");

describe.skipIf(!haveHaproxy)("drain with HAProxy's admin socket (a real haproxy), under every shell", () => {
  let haproxy: ChildProcess;
  let socket: string;
  let frontPort: number;
  /** app1's stand-in backend: accepts and never answers, so a request through HAProxy holds a session. */
  let hold: Server;
  const held: Socket[] = [];

  const freePort = () =>
    new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });

  beforeAll(async () => {
    const dir = join(scratch, "haproxy");
    mkdirSync(dir);
    socket = join(dir, "admin.sock");
    frontPort = await freePort();
    hold = createServer((s) => held.push(s)).listen(0, "127.0.0.1");
    await new Promise((r) => hold.once("listening", r));
    const holdPort = (hold.address() as { port: number }).port;
    const cfg = [
      "global",
      `    stats socket ${socket} mode 600 level admin`,
      "defaults",
      "    mode http",
      "    timeout connect 2s",
      "    timeout client 30s",
      "    timeout server 30s",
      "frontend web",
      `    bind 127.0.0.1:${frontPort}`,
      "    default_backend apps",
      "backend apps",
      `    server app1 127.0.0.1:${holdPort}`,
      `    server app2 127.0.0.1:${holdPort}`,
      "",
    ].join("\n");
    writeFileSync(join(dir, "haproxy.cfg"), cfg);
    haproxy = spawn("haproxy", ["-db", "-f", join(dir, "haproxy.cfg")], { stdio: "ignore" });
    for (let i = 0; i < 100 && spawnSync("test", ["-S", socket]).status !== 0; i++) await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(() => {
    haproxy?.kill("SIGKILL");
    for (const s of held) s.destroy();
    hold?.close();
  });

  const stat = (server: string) => {
    const r = spawnSync("sh", ["-c", `echo "show stat apps 4 -1" | socat - UNIX-CONNECT:${socket}`], { encoding: "utf8" });
    const row = r.stdout.split("\n").find((l) => l.startsWith(`apps,${server},`))!;
    const f = row.split(",");
    return { scur: Number(f[4]), status: f[17] };
  };

  /** runDrain's context, with "ssh" running the remote command locally under `shell` as sh. */
  function context(shell: { name: string; argv: readonly string[]; env?: Readonly<Record<string, string>> }): DrainRunContext {
    const dir = join(scratch, shell.name.replace(/\W/g, "_"));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "sh"), `#!/bin/sh\nexec ${shell.argv.join(" ")} "$@"\n`);
    chmodSync(join(dir, "sh"), 0o755);
    // busybox: only its applets, and socat (the adapter's one tool beyond them).
    mkdirSync(join(dir, "extra"), { recursive: true });
    spawnSync("ln", ["-sf", which("socat")!, join(dir, "extra", "socat")]);
    const path = `${dir}:${shell.env?.PATH !== undefined ? `${shell.env.PATH}:${join(dir, "extra")}` : process.env.PATH}`;
    const ssh = join(dir, "ssh");
    writeFileSync(ssh, `#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done\nshift 2\nPATH='${path}' exec sh -c "$1"\n`);
    chmodSync(ssh, 0o755);
    return { target: (h) => ({ address: h }), ssh: { options: [], ssh }, sudo: false, handles: new Set(), clock: () => performance.now() };
  }

  const step = (server: string, timeout = 5): ManifestDrain => ({ via: "lb1", adapter: "haproxy", backend: "apps", server, socket, timeoutSeconds: timeout });

  for (const shell of availableShells()) {
    it(`leave sets the server to DRAIN and waits for 0 sessions; back sets it ready (${shell.name})`, async () => {
      const ctx = context(shell);
      const left = await runDrain(step("app2"), "leave", ctx);
      expect(left).toMatchObject({ outcome: "ok", via: "lb1", action: "leave", adapter: "haproxy" });
      expect(left.message).toMatch(/^apps\/app2 drained \(\d+s\)$/);
      expect(stat("app2").status).toBe("DRAIN");
      const back = await runDrain(step("app2"), "back", ctx);
      expect(back).toMatchObject({ outcome: "ok", message: "apps/app2 is ready" });
      expect(stat("app2").status).not.toBe("DRAIN");
      // A server HAProxy does not know, and no socket at all: nothing to drain.
      const unknown = await runDrain(step("app9"), "leave", ctx);
      expect(unknown).toMatchObject({ outcome: "skip", message: "HAProxy answered: No such server." });
      const noSocket = await runDrain({ ...step("app1"), socket: join(scratch, "none.sock") } as ManifestDrain, "leave", ctx);
      expect(noSocket).toMatchObject({ outcome: "skip", message: `no HAProxy admin socket at ${join(scratch, "none.sock")}` });
    });
  }

  it("a session that does not end within the timeout fails the leave, with the count", async () => {
    const [shell] = availableShells();
    // A request through HAProxy to app1 that the backend never answers: one current session.
    const pending = request({ host: "127.0.0.1", port: frontPort, path: "/" });
    pending.on("error", () => {});
    pending.end();
    for (let i = 0; i < 100 && stat("app1").scur + stat("app2").scur === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const busy = stat("app1").scur > 0 ? "app1" : "app2";
    const ctx = context(shell!);
    const r = await runDrain(step(busy, 1), "leave", ctx);
    expect(r).toMatchObject({ outcome: "fail", message: `apps/${busy} still has 1 sessions after 1s` });
    await runDrain(step(busy), "back", ctx);
    pending.destroy();
  });

  it("without socat (or an nc with -U) the leave fails naming both", async () => {
    const dir = join(scratch, "nosocat");
    mkdirSync(dir, { recursive: true });
    const busybox = availableShells().find((s) => s.name === "busybox sh")!;
    writeFileSync(join(dir, "sh"), `#!/bin/sh\nexec ${busybox.argv.join(" ")} "$@"\n`);
    chmodSync(join(dir, "sh"), 0o755);
    const ssh = join(dir, "ssh");
    writeFileSync(ssh, `#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done\nshift 2\nPATH='${dir}:${busybox.env!.PATH}' exec sh -c "$1"\n`);
    chmodSync(ssh, 0o755);
    const r = await runDrain(step("app2"), "leave", { target: (h) => ({ address: h }), ssh: { options: [], ssh }, sudo: false, handles: new Set(), clock: () => 0 });
    expect(r).toMatchObject({ outcome: "fail", message: "needs socat (or an nc with -U) to talk to HAProxy's admin socket; neither is installed" });
  });

  it("the command adapter: argv as given, its output in the result; a failure with its exit status", async () => {
    const ctx = context(availableShells()[0]!);
    const ok = await runDrain({ via: "lb1", adapter: "command", leave: ["printf", "%s|", "a b", "it's; $x"], back: ["true"], timeoutSeconds: 5 }, "leave", ctx);
    expect(ok).toMatchObject({ outcome: "ok", message: "a b|it's; $x|" });
    const bad = await runDrain({ via: "lb1", adapter: "command", leave: ["true"], back: ["sh", "-c", "echo no such pool >&2; exit 3"], timeoutSeconds: 5 }, "back", ctx);
    expect(bad).toMatchObject({ outcome: "fail", message: "exit 3: no such pool" });
  });
});

describe("the scheduler with a rollout's batches", () => {
  const policy = (hosts: string[], batches: number[], extra: Partial<{ pauseSeconds: number; maxFailed: number }> = {}) => ({
    hosts,
    batches,
    pauseSeconds: extra.pauseSeconds ?? 0,
    maxFailed: extra.maxFailed ?? 0,
    onFailure: "stop" as const,
  });

  async function run(
    hosts: string[],
    policies: Record<string, ReturnType<typeof policy>>,
    changing: string[],
    opts: { fail?: string[]; deps?: Record<string, string[]>; ms?: number } = {},
  ) {
    const t0 = performance.now();
    const clock = () => performance.now() - t0;
    const events: string[] = [];
    const spans = new Map<string, [number, number]>();
    const rollout = new Rollout(policies, hosts, new Set(changing), clock, {
      batchStarted: (c, i) => events.push(`${c} batch ${i + 1} starts`),
      batchEnded: (c, i, _n, failed) => events.push(`${c} batch ${i + 1} ends${failed.length ? ` (${failed.join(",")} failed)` : ""}`),
      stopped: (c) => events.push(`${c} stopped`),
    });
    const results = await schedule<string>(hosts, new Map(Object.entries(opts.deps ?? {})), 8, {
      run: async (h) => {
        rollout.started(h);
        const start = clock();
        await new Promise((r) => setTimeout(r, opts.ms ?? 60));
        spans.set(h, [start, clock()]);
        const ok = !(opts.fail ?? []).includes(h);
        rollout.done(h, ok);
        return ok ? "converged" : "failed";
      },
      succeeded: (r) => r === "converged",
      skip: (h) => {
        rollout.done(h, false);
        return "skipped";
      },
      gate: (h) => rollout.gate(h),
      gateWake: () => rollout.wake(),
      skipGated: (h) => {
        rollout.done(h, "stopped");
        return "stopped";
      },
    });
    return { results, spans, events, json: rollout.json() };
  }

  const before = (spans: Map<string, [number, number]>, a: string, b: string) => spans.get(a)![1] <= spans.get(b)![0];

  it("batches [1, 2] over five hosts: 1, then 2, then 2, each after the last has ended; unchanged hosts do not wait", async () => {
    const hosts = ["a1", "a2", "a3", "a4", "a5", "a6"];
    const { results, spans, events } = await run(hosts, { app: policy(hosts, [1, 2]) }, ["a1", "a2", "a3", "a4", "a5"]);
    expect([...results.values()].every((r) => r === "converged")).toBe(true);
    for (const later of ["a2", "a3", "a4", "a5"]) expect(before(spans, "a1", later)).toBe(true);
    for (const later of ["a4", "a5"]) for (const earlier of ["a2", "a3"]) expect(before(spans, earlier, later)).toBe(true);
    // a2 and a3 overlap: one batch runs at once.
    expect(spans.get("a2")![0]).toBeLessThan(spans.get("a3")![1]);
    // a6 has nothing to change: it ran at the start, beside the first batch.
    expect(spans.get("a6")![0]).toBeLessThan(spans.get("a1")![1]);
    expect(events).toEqual(["app batch 1 starts", "app batch 1 ends", "app batch 2 starts", "app batch 2 ends", "app batch 3 starts", "app batch 3 ends"]);
  });

  it("the progress line names the current batch, and the pause before the next", () => {
    let now = 0;
    const r = new Rollout({ app: policy(["a1", "a2"], [1], { pauseSeconds: 5 }) }, ["a1", "a2"], new Set(["a1", "a2"]), () => now, { batchStarted() {}, batchEnded() {}, stopped() {} });
    expect(r.progress()).toBe("app batch 1/2");
    r.started("a1");
    now = 1000;
    r.done("a1", true);
    expect(r.gate("a2")).toBe("wait");
    expect(r.progress()).toBe("app batch 2/2 in 5s");
    now = 6000;
    expect(r.gate("a2")).toBe("go");
    r.started("a2");
    expect(r.progress()).toBe("app batch 2/2");
  });

  it("a pause between batches", async () => {
    const hosts = ["a1", "a2"];
    const { spans } = await run(hosts, { app: policy(hosts, [1], { pauseSeconds: 0.5 }) }, hosts);
    expect(spans.get("a2")![0] - spans.get("a1")![1]).toBeGreaterThanOrEqual(490);
  });

  it("a failure above maxFailed stops the rollout after its batch: later batches are not started", async () => {
    const hosts = ["a1", "a2", "a3"];
    const { results, events, json } = await run(hosts, { app: policy(hosts, [1]) }, hosts, { fail: ["a1"] });
    expect(Object.fromEntries(results)).toEqual({ a1: "failed", a2: "stopped", a3: "stopped" });
    expect(events).toEqual(["app batch 1 starts", "app batch 1 ends (a1 failed)", "app stopped"]);
    expect(json.app).toMatchObject({ failed: ["a1"], stopped: { after_batch: 1 } });
  });

  it("within maxFailed the rollout goes on", async () => {
    const hosts = ["a1", "a2", "a3"];
    const { results } = await run(hosts, { app: policy(hosts, [1], { maxFailed: 1 }) }, hosts, { fail: ["a1"] });
    expect(Object.fromEntries(results)).toEqual({ a1: "failed", a2: "converged", a3: "converged" });
  });

  it("batches respect the providers too: a batch host waits for its provider, the next batch for it", async () => {
    const hosts = ["db", "a1", "a2"];
    const { spans } = await run(hosts, { app: policy(["a1", "a2"], [1]) }, ["a1", "a2"], { deps: { a1: ["db"], a2: ["db"] } });
    expect(before(spans, "db", "a1")).toBe(true);
    expect(before(spans, "a1", "a2")).toBe(true);
  });
});

describe("a build's rollout and drains, as deploy --from reads them", () => {
  const build = (extra: { drains?: unknown; rollout?: unknown }) => {
    const dir = mkdtempSync(join(scratch, "build-"));
    writeFileSync(join(dir, "h1.sh"), "x\n");
    const digest = `sha256:${createHash("sha256").update("x\n").digest("hex")}`;
    const host = (name: string) => ({ name, address: name, bundle: "h1.sh", digest, resources: 0, after: [] });
    const manifest = {
      depc: "0",
      environment: "prod",
      sources: "sha256:0",
      hosts: [{ ...host("h1"), ...(extra.drains !== undefined ? { drains: extra.drains } : {}) }, host("lb1")],
      waves: [["h1", "lb1"]],
      ...(extra.rollout !== undefined ? { rollout: extra.rollout } : {}),
    };
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
    return readBuild(dir, dir);
  };

  it("a valid one passes through to the deploy", () => {
    const drains = [{ via: "lb1", adapter: "haproxy", backend: "apps", server: "h1", socket: "/run/haproxy/admin.sock", timeoutSeconds: 30 }];
    const rollout = { app: { hosts: ["h1"], batches: [1], pauseSeconds: 0, maxFailed: 0, onFailure: "stop" } };
    const r = build({ drains, rollout });
    expect(r.ok && r.source.manifest.rollout).toEqual(rollout);
    expect(r.ok && r.source.manifest.hosts[0]!.drains).toEqual(drains);
  });

  it("a hand-edited one that would inject or point nowhere is refused with one line", () => {
    const drain = { via: "lb1", adapter: "haproxy", backend: "apps", server: "h1;shutdown sessions", socket: "/run/haproxy/admin.sock", timeoutSeconds: 30 };
    expect(build({ drains: [drain] })).toEqual({ ok: false, message: "the build . has an invalid manifest.json: host h1: invalid drains: backend or server is not an HAProxy name" });
    expect(build({ drains: [{ ...drain, server: "h1", via: "lb9" }] })).toEqual({ ok: false, message: 'the build . has an invalid manifest.json: host h1: invalid drains: via "lb9" is not a host of the build' });
    expect(build({ rollout: { app: { hosts: ["h1"], batches: [0], pauseSeconds: 0, maxFailed: 0, onFailure: "stop" } } })).toEqual({
      ok: false,
      message: "the build . has an invalid manifest.json: invalid rollout: app: batches are not whole numbers of hosts",
    });
  });
});
