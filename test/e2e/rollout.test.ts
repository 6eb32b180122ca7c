// End-to-end: a rolling deploy behind a real HAProxy, as a user runs it (the
// built bin, a real process) against real hosts of the test bed.
//
// lb1 runs Debian's haproxy (from the bed's local apt repository, installed by
// the model) under a supervisord of the deployment; app1..app3 run a real
// HTTP app (python3) under supervisord, with a health check. The load
// balancer's config and each app host's drain come from the same
// provide/require key. While a client sends a steady stream of requests
// through lb1, a deploy that restarts every app must fail none of them and
// restart the hosts one batch at a time; a release that fails its health
// check stops the rollout after the first batch, the others untouched and
// serving; an unsafe batch is refused at build time.
// Needs root (see test/testbed/README.md): skipped elsewhere, a failure in CI.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, repoRoot } from "../support/project.js";
import { Testbed, testbedPrerequisites } from "../testbed/index.js";

const pre = testbedPrerequisites({ systemd: false });
if (!pre.ok) {
  if (process.env.CI === "true") throw new Error(`test bed prerequisites missing in CI:\n  ${pre.missing.join("\n  ")}\n${pre.howTo}`);
  console.warn(`[rollout e2e] skipping: ${pre.missing.join("; ")}.\n${pre.howTo}`);
}

const keys = `import { key } from "depc";
/** One app backend: provided by every app, required by the load balancer. */
export const backend = key<{ name: string; address: string; port: number }>("backend");
`;

const app = `import { component, Directory, File, Program, Supervisor } from "depc";
import { backend } from "./keys.ts";

const server = [
  "import http.server, os, socket",
  "conf = dict(l.strip().split(' = ', 1) for l in open('/srv/app/app.ini') if ' = ' in l)",
  "host = socket.gethostname()",
  "class H(http.server.BaseHTTPRequestHandler):",
  "    protocol_version = 'HTTP/1.0'",
  "    def do_GET(self):",
  "        ok = self.path != '/health' or conf['healthy'] == 'yes'",
  "        body = ('release %s on %s\\\\n' % (conf['release'], host)).encode()",
  "        self.send_response(200 if ok else 500)",
  "        self.send_header('Content-Length', str(len(body)))",
  "        self.end_headers()",
  "        self.wfile.write(body)",
  "    def log_message(self, *args):",
  "        pass",
  "http.server.ThreadingHTTPServer(('0.0.0.0', int(conf['port'])), H).serve_forever()",
  "",
].join("\\n");

export const app = component({
  name: "app",
  settings: { port: 8000, release: "1", healthy: true },
  build(s, ctx) {
    ctx.provide(backend, { name: ctx.host.name, address: ctx.host.address, port: s.port });
    Directory({ path: "/srv/app" });
    const code = File({ path: "/srv/app/app.py", content: server });
    const ini = File({ path: "/srv/app/app.ini", content: \`port = \${s.port}\\nrelease = \${s.release}\\nhealthy = \${s.healthy ? "yes" : "no"}\\n\` });
    const sup = Supervisor({ flavour: "user", base: "/srv/sup", bin: "/usr/bin" });
    Program({
      supervisor: sup,
      name: "web",
      command: ["/usr/bin/python3", "/srv/app/app.py"],
      directory: "/srv/app",
      stopasgroup: true,
      whenChanged: [code, ini],
      health: { http: { url: \`http://127.0.0.1:\${s.port}/health\` }, retries: 5, interval: 1 },
      stableSeconds: 1,
    });
  },
});
`;

const lb = (sourcesLine: string) => `import { component, Directory, File, Package, Program, Supervisor, haproxyDrain } from "depc";
import { backend } from "./keys.ts";

export const lb = component({
  name: "lb",
  settings: { port: 80 },
  build(s, ctx) {
    // The server names in the config and in each app host's drain come from the same values.
    const servers = ctx.require(backend, { drain: (b) => haproxyDrain({ backend: "apps", server: b.name, timeout: 20 }) });
    // Packages come from the bed's repository and no other (the machine's apt mirror is unreachable from the bed).
    const sources = [
      File({ path: "/etc/apt/sources.list", content: "# This host's packages come from sources.list.d (managed by depc).\\n" }),
      File({ path: "/etc/apt/sources.list.d/depc-test.list", content: ${JSON.stringify(`${sourcesLine}\n`)} }),
    ];
    const install = [Package({ name: "haproxy", after: sources }), Package({ name: "socat", after: sources })];
    Directory({ path: "/run/haproxy" });
    const cfg = File({
      path: "/etc/haproxy/haproxy.cfg",
      content: [
        "global",
        "    stats socket /run/haproxy/admin.sock mode 660 level admin",
        "defaults",
        "    mode http",
        "    timeout connect 2s",
        "    timeout client 30s",
        "    timeout server 30s",
        "frontend web",
        \`    bind *:\${s.port}\`,
        "    default_backend apps",
        "backend apps",
        "    balance roundrobin",
        ...servers.map((b) => \`    server \${b.name} \${b.address}:\${b.port} check inter 300 fall 1 rise 2\`),
        "",
      ].join("\\n"),
    });
    const sup = Supervisor({ flavour: "user", base: "/srv/lbsup", bin: "/usr/bin" });
    Program({
      supervisor: sup,
      name: "haproxy",
      command: ["/usr/sbin/haproxy", "-db", "-f", "/etc/haproxy/haproxy.cfg"],
      whenChanged: [cfg],
      after: install,
      health: { tcp: { port: s.port } },
    });
  },
});
`;

const env = (release: string, opts: { healthy?: boolean; batches?: string; onFailure?: "stop" | "rollback" } = {}) => `import { environment } from "depc";
import { app } from "../components/app.ts";
import { lb } from "../components/lb.ts";

export default environment({
  hosts: { lb1: [lb], app1: [app], app2: [app], app3: [app] },
  settings: { app: { release: ${JSON.stringify(release)}, healthy: ${opts.healthy ?? true} } },
  rollout: { app: { batches: ${opts.batches ?? "[1]"}, pause: 0.5, onFailure: ${JSON.stringify(opts.onFailure ?? "stop")} } },
});
`;

interface HostJson {
  name: string;
  status: string;
  cause?: { kind: string; message: string };
  timings: { started_at_ms: number; duration_ms: number };
  rollout?: { component: string; batch: number }[];
  drains?: { via: string; action: string; outcome: string; message: string }[];
  resources: { kind: string; key: string; status: string; health?: { result: string } }[];
}
interface Report {
  exit: number;
  hosts: HostJson[];
  rollout?: { changing: string[]; unchanged: string[]; components: Record<string, { batches: { index: number; hosts: string[]; started_at_ms: number; ended_at_ms: number }[]; stopped: { after_batch: number; reason: string } | null }> };
}
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json: Report;
}

describe.skipIf(!pre.ok)("rolling deploy behind HAProxy (real hosts)", () => {
  let bed: Testbed;
  let project: { dir: string; cleanup: () => void };
  let sourcesLine: string;
  let runs = 0;

  const depc = (command: string, ...args: string[]) =>
    new Promise<Run>((resolve) => {
      const json = join(project.dir, `run-${++runs}.json`);
      const argv = [join(repoRoot, "bin", "depc.js"), command, "env/bed", ...(command === "build" ? [] : ["-F", bed.sshConfigFile, "--json", json]), ...args];
      const child = spawn(process.execPath, argv, { cwd: project.dir, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      child.on("close", (code) => {
        const report = existsSync(json) ? (JSON.parse(readFileSync(json, "utf8")) as Report) : ({ exit: -1, hosts: [] } as Report);
        resolve({ code, stdout, stderr, json: report });
      });
    });
  const setEnv = (text: string) => writeFileSync(join(project.dir, "env", "bed.ts"), text);
  const host = (r: Run, name: string) => r.json.hosts.find((h) => h.name === name)!;

  /** One request through the load balancer: the body, or the error. */
  const get = () =>
    new Promise<{ ok: boolean; text: string }>((resolve) => {
      const req = request({ host: bed.address("lb1"), port: 80, path: "/", agent: false, timeout: 5000 }, (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ ok: res.statusCode === 200, text: `${res.statusCode} ${body.trim()}` }));
      });
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", (e) => resolve({ ok: false, text: e.message }));
      req.end();
    });

  /** A steady stream of requests (two clients, back to back) until stopped. */
  function traffic() {
    const seen: { ok: boolean; text: string }[] = [];
    let stop = false;
    const client = async () => {
      while (!stop) {
        seen.push(await get());
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const clients = [client(), client()];
    return {
      seen,
      stop: async () => {
        stop = true;
        await Promise.all(clients);
        return seen;
      },
    };
  }

  beforeAll(async () => {
    bed = await Testbed.start({ hosts: [{ name: "lb1" }, { name: "app1" }, { name: "app2" }, { name: "app3" }] });
    sourcesLine = (await bed.aptRepository()).sourcesListLine;
    project = makeProject({
      "components/keys.ts": keys,
      "components/app.ts": app,
      "components/lb.ts": lb(sourcesLine),
      "env/bed.ts": env("1"),
    });
    const first = await depc("deploy");
    if (first.code !== 0) throw new Error(`the first deploy failed:\n${first.stdout}\n${first.stderr}`);
  });
  afterAll(async () => {
    await bed?.stop();
    project?.cleanup();
  });

  it("the first deploy installed HAProxy and put every app behind it", async () => {
    const answers = new Set<string>();
    for (let i = 0; i < 12; i++) answers.add((await get()).text);
    expect([...answers].sort()).toEqual(["200 release 1 on app1", "200 release 1 on app2", "200 release 1 on app3"]);
  });

  it("a deploy that restarts every app fails no request and restarts one batch at a time", async () => {
    setEnv(env("2"));
    const load = traffic();
    await new Promise((r) => setTimeout(r, 300));
    const run = await depc("deploy");
    await new Promise((r) => setTimeout(r, 1500));
    const seen = await load.stop();
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const failed = seen.filter((s) => !s.ok);
    expect(failed, `${failed.length} of ${seen.length} requests failed`).toEqual([]);
    expect(seen.length).toBeGreaterThan(50);
    expect(seen.some((s) => s.text.startsWith("200 release 1"))).toBe(true);
    expect(seen.at(-1)!.text).toMatch(/^200 release 2 on app\d$/);

    // Batches from the report: three of one host each, none overlapping the next.
    const batches = run.json.rollout!.components.app!.batches;
    expect(batches.map((b) => b.hosts)).toEqual([["app1"], ["app2"], ["app3"]]);
    const span = (h: string) => [host(run, h).timings.started_at_ms, host(run, h).timings.started_at_ms + host(run, h).timings.duration_ms] as const;
    expect(span("app1")[1]).toBeLessThanOrEqual(span("app2")[0]);
    expect(span("app2")[1]).toBeLessThanOrEqual(span("app3")[0]);
    for (const h of ["app1", "app2", "app3"]) {
      expect(host(run, h).status).toBe("converged");
      expect(host(run, h).rollout).toEqual([{ component: "app", batch: Number(h.slice(3)) }]);
      expect(host(run, h).drains!.map((d) => [d.via, d.action, d.outcome])).toEqual([
        ["lb1", "leave", "ok"],
        ["lb1", "back", "ok"],
      ]);
      const web = host(run, h).resources.find((r) => r.kind === "program")!;
      expect(web.status).toBe("changed");
      expect(web.health?.result).toBe("passed");
    }
    // lb1 had nothing to change: it was not batched, drained nor restarted.
    expect(host(run, "lb1").status).toBe("converged");
    expect(run.stdout).toContain("depc: rollout app: 3 batches: app1 | app2 | app3 (pause 0.5s, maxFailed 0, on failure stop)\n");
    expect(run.stdout).toMatch(/app1 +drain +lb1: apps\/app1 drained \(\d+s\)\n/);
    expect(run.stdout).toMatch(/app1 +ready +lb1: apps\/app1 is ready\n/);
    expect(run.stdout).toContain("depc: rollout app: batch 2/3 starts: app2 (after a ");
  });

  it("a no-op deploy drains nothing and batches nothing", async () => {
    const run = await depc("deploy");
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain("depc: pre-check: no host has changes; app1, app2, app3 up to date (not drained, not batched)\n");
    for (const h of ["app1", "app2", "app3"]) expect(host(run, h).drains).toBeUndefined();
  });

  it("onFailure rollback: the failed host runs its previous kept bundle and comes back into rotation", async () => {
    setEnv(env("3", { healthy: false, onFailure: "rollback" }));
    const load = traffic();
    const run = await depc("deploy");
    const seen = await load.stop();
    expect(run.code).toBe(1);
    const app1 = host(run, "app1") as HostJson & { rollback?: { status: string; to?: string } };
    expect(app1.status).toBe("failed");
    expect(app1.rollback).toMatchObject({ status: "converged" });
    expect(app1.drains!.map((d) => [d.action, d.outcome])).toEqual([
      ["leave", "ok"],
      ["back", "ok"],
    ]);
    for (const h of ["app2", "app3"]) expect(host(run, h).status).toBe("skipped");
    expect((await bed.exec("app1", "cat /srv/app/app.ini")).stdout).toContain("release = 2\n");
    expect(seen.filter((s) => !s.ok)).toEqual([]);
    await new Promise((r) => setTimeout(r, 1500)); // HAProxy's check sees app1 up again (rise 2, inter 300ms)
    const after = new Set<string>();
    for (let i = 0; i < 12; i++) after.add((await get()).text);
    expect([...after].sort()).toEqual(["200 release 2 on app1", "200 release 2 on app2", "200 release 2 on app3"]);
  });

  it("a release that fails its health check stops the rollout after the first batch; the others stay untouched and serving", async () => {
    setEnv(env("3", { healthy: false }));
    const load = traffic();
    const run = await depc("deploy");
    const seen = await load.stop();
    expect(run.code).toBe(1);
    expect(host(run, "app1").status).toBe("failed");
    for (const h of ["app2", "app3"]) {
      expect(host(run, h).status).toBe("skipped");
      expect(host(run, h).cause).toEqual({
        kind: "rollout",
        message: "skipped: the rollout of app stopped after batch 1/3: 1 host failed (app1), more than maxFailed 0",
      });
      // Untouched: still release 2 on disk.
      expect((await bed.exec(h, "cat /srv/app/app.ini")).stdout).toContain("release = 2\n");
    }
    expect(run.json.rollout!.components.app!.stopped).toEqual({ after_batch: 1, reason: "the rollout of app stopped after batch 1/3: 1 host failed (app1), more than maxFailed 0" });
    expect(run.stderr).toContain("depc: the rollout of app stopped after batch 1/3: 1 host failed (app1), more than maxFailed 0; not started: app2, app3\n");
    expect(run.stdout).toContain("stays out of rotation on lb1: its deploy did not converge");
    // app1 stays drained: every request, during the deploy and after, was served by release 2.
    expect(seen.filter((s) => !s.ok)).toEqual([]);
    const after = new Set<string>();
    for (let i = 0; i < 10; i++) after.add((await get()).text);
    expect([...after].sort()).toEqual(["200 release 2 on app2", "200 release 2 on app3"]);
  });

  it("an unsafe batch is refused at build time, at the environment's line", async () => {
    setEnv(env("2", { batches: `["100%"]` }));
    const run = await depc("build");
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain(
      'env/bed.ts:5:16 - error DEPC3100: The rollout of "app" takes all 3 of its hosts (app1, app2, app3) down at once: its first batch, "100%", is every host. Make the batches smaller, or set allowFullOutage: true to accept the outage.\n',
    );
  });
});
