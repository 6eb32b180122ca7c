// Health checks (runtime/health.sh, through the HealthCheck kind) under the
// six shells, against a real HTTP server (Node's, in this process) and real
// TCP ports, with each fetch and connect tool made the only one on PATH:
// curl, GNU wget, busybox's wget applet, `busybox wget`; OpenBSD nc -z,
// busybox's nc applet, bash's /dev/tcp, python3. Exact failure texts.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environment, HealthCheck, type HealthCheckOptions } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { availableShells, busyboxPath, requireTool, which, type Shell } from "../support/shells.js";

const shells = availableShells();
const tools = ["curl", "wget", "nc", "busybox", "python3", "bash", "timeout"].every((t) => requireTool(t));
const ncz = existsSync("/bin/nc.openbsd") || (process.env.CI === "true" ? (() => { throw new Error("netcat-openbsd is not installed (CI=true)"); })() : false);

const root = mkdtempSync(join(tmpdir(), "depc-health-"));
/** What every bundle needs (the runtime's tools), from the machine's GNU userland. */
const BASE = ["printf", "cat", "mv", "rm", "mkdir", "chmod", "chown", "chgrp", "ln", "readlink", "mktemp", "stat", "awk", "diff", "sed", "tr", "sha256sum", "date", "sleep", "id", "tail", "env"];

/** A PATH directory holding the base tools plus `extra` (name → program). */
function pathDir(name: string, extra: Record<string, string>, base: "gnu" | "busybox" = "gnu"): string {
  const dir = join(root, "path", name);
  mkdirSync(dir, { recursive: true });
  const bb = which("busybox")!;
  for (const tool of BASE) symlinkSync(base === "busybox" ? bb : which(tool)!, join(dir, tool));
  for (const [tool, program] of Object.entries(extra)) symlinkSync(program, join(dir, tool));
  return dir;
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly report: Record<string, unknown>[];
}

let bundles = 0;
/** Runs a bundle of `checks` under `shell` with only `path` on PATH (async: the server answers meanwhile). */
async function apply(shell: Shell, path: string, checks: readonly HealthCheckOptions[], ...args: string[]): Promise<Run> {
  const n = ++bundles;
  const file = join(root, `b${n}.sh`);
  writeFileSync(file, compileValue(environment({ hosts: { h: checks.map((c) => HealthCheck(c)) } })).bundles!.get("h")!);
  const report = join(root, `r${n}.json`);
  const [command, ...leading] = shell.argv;
  const child = spawn(command!, [...leading, file, "--state-dir", join(root, `s${n}`), "--report", report, ...args], {
    env: { PATH: path, HOME: root, TMPDIR: root },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const lines = existsSync(report) ? readFileSync(report, "utf8").trim().split("\n") : [];
  return { status, stdout, stderr, report: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** Timings vary: "in 0.3s" → "in Ns". */
const timeless = (text: string) => text.replace(/ in [0-9]+\.[0-9]s/g, " in Ns");

describe.runIf(tools && shells.length > 0)("health checks", () => {
  let server: Server;
  let port = 0;
  let closed = 0;
  const hits = new Map<string, number>();
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const u = new URL(req.url ?? "/", "http://x");
      const key = u.searchParams.get("key") ?? "";
      if (u.pathname === "/ok") res.writeHead(200).end("service: ok\nall good\n");
      else if (u.pathname === "/down") res.writeHead(503).end("down for maintenance\n");
      else if (u.pathname === "/moved") res.writeHead(302, { location: "/ok" }).end();
      else if (u.pathname === "/esc") res.writeHead(500).end("bad \u001b]0;pwned\u0007 \u202etxt.exe\n");
      else if (u.pathname === "/slow") setTimeout(() => res.writeHead(200).end("late\n"), 8000);
      else if (u.pathname === "/flaky") {
        // Fails twice per key, then answers.
        const n = (hits.get(key) ?? 0) + 1;
        hits.set(key, n);
        if (n <= 2) res.writeHead(503).end("warming up\n");
        else res.writeHead(200).end("ready\n");
      } else res.writeHead(404).end("no such page\n");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
    // A port nothing listens on: bound, then closed.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    closed = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  const bb = which("busybox") ?? "busybox";
  const fetchers = () => [
    { tool: "curl", path: pathDir("curl", { curl: which("curl")!, timeout: which("timeout")! }) },
    { tool: "GNU wget", path: pathDir("gnu-wget", { wget: which("wget")!, timeout: which("timeout")! }) },
    { tool: "busybox's wget applet", path: busyboxPath(bb) },
    { tool: "busybox wget", path: pathDir("busybox-binary", { busybox: bb, timeout: which("timeout")! }) },
  ];
  const connectors = () => [
    ...(ncz ? [{ tool: "nc -z (OpenBSD)", path: pathDir("nc-openbsd", { nc: "/bin/nc.openbsd" }) }] : []),
    { tool: "busybox's nc applet", path: busyboxPath(bb) },
    { tool: "bash /dev/tcp", path: pathDir("bash", { bash: which("bash")!, timeout: which("timeout")! }) },
    { tool: "python3", path: pathDir("python3", { python3: "/usr/bin/python3" }) },
    { tool: "busybox nc", path: pathDir("busybox-nc", { busybox: bb }) },
  ];
  let fetch: ReturnType<typeof fetchers> = [];
  let connect: ReturnType<typeof connectors> = [];
  beforeAll(() => {
    fetch = fetchers();
    connect = connectors();
  });

  describe.each(shells.map((s) => [s.name, s] as const))("under %s", (shellName, shell) => {
    const tag = shellName.replace(/\W+/g, "-");

    it("HTTP with each fetch tool: status, body, redirects, retries; a wrong status fails with the body as lines", async () => {
      for (const { tool, path } of fetch) {
        const key = `${tag}-${tool.replace(/\W+/g, "-")}`;
        const good = await apply(shell, path, [
          { name: "ok", http: { url: url("/ok"), body: "all good" }, retries: 1 },
          { name: "moved", http: { url: url("/moved") }, retries: 1 },
          { name: "maintenance", http: { url: url("/down"), status: 503 }, retries: 1 },
          { name: "flaky", http: { url: url(`/flaky?key=${key}`) }, retries: 5, interval: 0 },
        ]);
        expect(good.status, `${tool}\n${good.stdout}${good.stderr}`).toBe(0);
        expect(timeless(good.stdout), tool).toBe(
          [
            "ok            healthcheck ok (health passed: 1 attempt in Ns)",
            "ok            healthcheck moved (health passed: 1 attempt in Ns)",
            "ok            healthcheck maintenance (health passed: 1 attempt in Ns)",
            "ok            healthcheck flaky (health passed: 3 attempts in Ns)",
            "depc: test/h: 4 resources: 0 changed, 4 ok, 0 failed",
            "",
          ].join("\n"),
        );
        expect(good.report.map((r) => r.health && { ...(r.health as object), seconds: typeof (r.health as { seconds: unknown }).seconds })).toEqual([
          { result: "passed", attempts: 1, seconds: "number" },
          { result: "passed", attempts: 1, seconds: "number" },
          { result: "passed", attempts: 1, seconds: "number" },
          { result: "passed", attempts: 3, seconds: "number" },
          undefined,
        ]);

        const bad = await apply(shell, path, [{ name: "down", http: { url: url("/down") }, retries: 2, interval: 0 }, { name: "after", command: ["true"] }]);
        expect(bad.status, tool).toBe(1);
        expect(timeless(bad.stdout), tool).toBe(
          [
            `failed        healthcheck down: health check failed after 2 attempts in Ns: GET ${url("/down")}: status 503, expected 200:`,
            // busybox wget keeps no body of a 4xx/5xx answer: its own message instead.
            tool.startsWith("busybox") ? "    wget: server returned error: HTTP/1.1 503 Service Unavailable" : "    down for maintenance",
            "depc: test/h: 2 resources: 0 changed, 0 ok, 1 failed, 1 not run",
            "",
          ].join("\n"),
        );
        expect(bad.report[0]).toMatchObject({ status: "failed", health: { result: "failed", attempts: 2 } });

        const body = await apply(shell, path, [{ name: "body", http: { url: url("/ok"), body: "all bad" }, retries: 1 }]);
        expect(timeless(body.stdout), tool).toBe(
          [
            `failed        healthcheck body: health check failed after 1 attempt in Ns: GET ${url("/ok")}: status 200, but no line of the body contains 'all bad':`,
            "    service: ok",
            "    all good",
            "depc: test/h: 1 resources: 0 changed, 0 ok, 1 failed",
            "",
          ].join("\n"),
        );
      }
    });

    it("HTTP: nothing listening, and no answer within the timeout", async () => {
      for (const { tool, path } of fetch) {
        const refused = await apply(shell, path, [{ name: "refused", http: { url: `http://127.0.0.1:${closed}/` }, retries: 2, interval: 0 }]);
        expect(refused.status, tool).toBe(1);
        expect(timeless(refused.stdout.split("\n")[0]!), tool).toBe(`failed        healthcheck refused: health check failed after 2 attempts in Ns: GET http://127.0.0.1:${closed}/: no response:`);
        expect(refused.stdout, tool).toMatch(/refused/i);
      }
      // One slow answer per shell (each costs the timeout): curl under every shell, the wgets under dash.
      for (const { tool, path } of shellName === "dash" ? fetch : fetch.slice(0, 1)) {
        const t0 = Date.now();
        const slow = await apply(shell, path, [{ name: "slow", http: { url: url("/slow") }, retries: 1, timeout: 1 }]);
        // The answer would come after 8 s; a loaded machine may take a while to start the bundle.
        expect(Date.now() - t0, tool).toBeLessThan(6000);
        expect(timeless(slow.stdout.split("\n")[0]!), tool).toMatch(new RegExp(`^failed        healthcheck slow: health check failed after 1 attempt in Ns: GET ${url("/slow").replace(/[.?]/g, "\\$&")}: no response within 1s`));
      }
    });

    it("TCP with each connect tool: an open port passes, a closed one fails", async () => {
      for (const { tool, path } of connect) {
        const run = await apply(shell, path, [{ name: "open", tcp: { port }, retries: 1 }, { name: "closed", tcp: { host: "127.0.0.1", port: closed }, retries: 2, interval: 0 }]);
        expect(run.status, `${tool}\n${run.stdout}${run.stderr}`).toBe(1);
        const lines = timeless(run.stdout).split("\n");
        expect(lines[0], tool).toBe("ok            healthcheck open (health passed: 1 attempt in Ns)");
        expect(lines[1], tool).toMatch(new RegExp(`^failed        healthcheck closed: health check failed after 2 attempts in Ns: TCP connect to 127.0.0.1:${closed} failed(:|$)`));
        expect(run.report[1]).toMatchObject({ health: { result: "failed", attempts: 2 } });
      }
    });

    it("a command: exit 0 passes; a failure shows its status and output, escaped; a hang times out", async () => {
      // GNU tools (mawk escapes the output), then busybox's applets only (its awk and timeout).
      for (const path of [pathDir(`cmd-${tag}`, { timeout: which("timeout")!, sh: which("dash")!, true: which("true")! }), busyboxPath(bb)]) {
      const run = await apply(shell, path, [
        { name: "fine", command: ["true"] },
        { name: "broken", command: ["sh", "-c", "printf 'checking\\n\\033]0;pwned\\007 \\342\\200\\256gnp.exe\\n' >&2; exit 3"], retries: 2, interval: 0 },
      ]);
      expect(timeless(run.stdout)).toBe(
        [
          "ok            healthcheck fine (health passed: 1 attempt in Ns)",
          `failed        healthcheck broken: health check failed after 2 attempts in Ns: sh -c "printf 'checking\\\\n\\\\033]0;pwned\\\\007 \\\\342\\\\200\\\\256gnp.exe\\\\n' >&2; exit 3" exited with status 3:`,
          "    checking",
          "    \\x1b]0;pwned\\x07 \\u202egnp.exe",
          "depc: test/h: 2 resources: 0 changed, 1 ok, 1 failed",
          "",
        ].join("\n"),
      );
      const hang = await apply(shell, path, [{ name: "hang", command: ["sleep", "10"], retries: 1, timeout: 1 }]);
      // busybox's timeout may say a word of its own ("Terminated"), shown under the line.
      expect(timeless(hang.stdout.split("\n")[0]!)).toMatch(/^failed        healthcheck hang: health check failed after 1 attempt in Ns: sleep 10 timed out after 1s:?$/);
      }
    });

    it("an HTTP body with control and bidi characters reaches the terminal escaped", async () => {
      const run = await apply(shell, fetch[0]!.path, [{ name: "esc", http: { url: url("/esc") }, retries: 1 }]);
      expect(timeless(run.stdout.split("\n").slice(0, 2).join("\n"))).toBe(
        `failed        healthcheck esc: health check failed after 1 attempt in Ns: GET ${url("/esc")}: status 500, expected 200:\n    bad \\x1b]0;pwned\\x07 \\u202etxt.exe`,
      );
    });

    it("a host without the tools fails with one line naming the host and the tools; --check runs nothing", async () => {
      const bare = pathDir(`bare-${tag}`, {});
      const http = await apply(shell, bare, [{ name: "web", http: { url: url("/ok") } }]);
      expect(http.stdout.split("\n")[0]).toBe(`failed        healthcheck web: an HTTP check needs 'curl', 'wget' or 'busybox' on host h; none is on PATH (${bare})`);
      expect(http.stderr).toBe(`depc: test/h: healthcheck web: an HTTP check needs 'curl', 'wget' or 'busybox' on host h; none is on PATH (${bare})\n`);
      const tcp = await apply(shell, bare, [{ name: "db", tcp: { port } }]);
      expect(tcp.stdout.split("\n")[0]).toBe(`failed        healthcheck db: a TCP check needs 'nc', 'bash', 'python3' or 'busybox' on host h; none is on PATH (${bare})`);
      const cmd = await apply(shell, bare, [{ name: "c", command: ["true"] }]);
      expect(cmd.stdout.split("\n")[0]).toBe(`failed        healthcheck c: a health check's timeout needs the 'timeout' tool on host h; it is not on PATH (${bare})`);

      const check = await apply(shell, bare, [{ name: "web", http: { url: url("/ok"), body: "ok" } }, { name: "db", tcp: { port: 5432 } }, { name: "c", command: ["/bin/true"] }], "--check");
      expect(check.status).toBe(0);
      expect(check.stdout).toBe(
        [
          `ok            healthcheck web (would check: GET ${url("/ok")} answers 200 with "ok")`,
          "ok            healthcheck db (would check: TCP connect to 127.0.0.1:5432)",
          "ok            healthcheck c (would check: /bin/true exits 0)",
          "depc: test/h (check): 3 resources: 0 would change, 3 ok",
          "",
        ].join("\n"),
      );
    });
  });
});
