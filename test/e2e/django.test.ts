// End-to-end: examples/django, the seed's sprint deployment made real, deployed
// with `depc deploy` (the built bin, the system's OpenSSH) onto four fresh test
// hosts: lb (nginx), web1 and web2 (Django from Debian's packages under gunicorn
// and supervisord, nginx for the static files, cron, logrotate) and db
// (PostgreSQL). All four have systemd as PID 1: the Debian packages of
// PostgreSQL, nginx, cron and supervisor start their services with it, as on a
// real host. The hosts have no route to the Debian mirror: their package source
// is a local apt repository of .deb files fetched on this machine and served
// from the bridge (bed.aptRepository(), cached), the whole /etc/apt/sources.list a `File` of the test's
// environment, as a real site without internet access would do it.
//
// Needs root and the test bed (test/testbed/README.md): skipped with a message
// elsewhere, a failure in CI.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/project.js";
import { Testbed, testbedPrerequisites } from "../testbed/index.js";
import { bedEnv, djangoProject, EXAMPLE } from "./django-project.js";

const pre = testbedPrerequisites({ systemd: true });
if (!pre.ok) {
  if (process.env.CI === "true") throw new Error(`django e2e: test bed prerequisites missing in CI:\n  ${pre.missing.join("\n  ")}\n${pre.howTo}`);
  console.warn(`[django e2e] skipping: ${pre.missing.join("; ")}.\n${pre.howTo}`);
}

const SITE = "sprint.example.com";
const GREETING = "<h1>Hello, world! (written by migration 0002)</h1>";

interface HostJson {
  name: string;
  status: string;
  counts?: { ok: number; changed: number; would_change: number; failed: number };
  resources: { kind: string; key: string; status: string }[];
}
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  hosts: HostJson[];
}

/**
 * nginx's reload is graceful and asynchronous: the old workers (the package's
 * welcome page) may answer for a moment after the deploy ended. Waits up to
 * 10 s for the new config.
 */
async function afterReload(get: () => { code: number | null; body: string; error: string }) {
  let page = get();
  for (let i = 0; i < 50 && page.body.includes("Welcome to nginx!"); i++) {
    await new Promise((r) => setTimeout(r, 200));
    page = get();
  }
  return page;
}

const show = (r: Omit<Run, "hosts">) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

describe.skipIf(!pre.ok)("examples/django deployed onto four fresh hosts", () => {
  let bed: Testbed;
  let project: { dir: string; identity: string; cleanup: () => void };
  let aptSource: string;
  let runs = 0;

  async function depc(command: string, ...args: string[]): Promise<Run> {
    const json = join(project.dir, `run-${++runs}.json`);
    const argv = [join(repoRoot, "bin", "depc.js"), command, "env/bed", "-F", bed.sshConfigFile, "--json", json, ...args];
    const child = spawn(process.execPath, argv, { cwd: project.dir, env: { ...process.env, NO_COLOR: "1", DEPC_AGE_IDENTITY: project.identity }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const hosts = existsSync(json) ? ((JSON.parse(readFileSync(json, "utf8")) as { hosts: HostJson[] }).hosts ?? []) : [];
    return { code, stdout, stderr, hosts };
  }
  const sh = async (host: string, command: string) => {
    const r = await bed.exec(host, command, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`${host}: ${command}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  /** GET through nginx on lb, from this machine, for the site's name. */
  const get = (path: string) => {
    const r = spawnSync("curl", ["-sS", "--max-time", "10", "--resolve", `${SITE}:80:${bed.address("lb")}`, `http://${SITE}${path}`], { encoding: "utf8" });
    return { code: r.status, body: r.stdout, error: r.stderr };
  };
  /** How often supervisord started gunicorn on a host, from its own log. */
  const spawns = async (host: string) => (await sh(host, "grep -c \"spawned: 'sprint'\" /var/log/supervisor/supervisord.log || true")).trim();
  const edit = (file: string, change: (text: string) => string) => writeFileSync(join(project.dir, file), change(readFileSync(join(project.dir, file), "utf8")));

  beforeAll(async () => {
    const t0 = Date.now();
    bed = await Testbed.start({ hosts: ["lb", "web1", "web2", "db"].map((name) => ({ name, systemd: true })) });
    // The shared set of the e2e tests (APT_REPO_PACKAGES): one cached download for all of them.
    aptSource = (await bed.aptRepository()).sourcesListLine;
    project = djangoProject("bed", bedEnv({ aptSource }));
    console.error(`[django e2e] apt repository, 4 hosts and the project ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 900_000);

  afterAll(async () => {
    project?.cleanup();
    await bed?.stop();
  }, 120_000);

  it("deploys prod: the page through nginx on lb shows the row the migration wrote, with its static CSS", async () => {
    const r = await depc("deploy");
    expect(r.code, show(r)).toBe(0);
    expect(r.hosts.map((h) => [h.name, h.status])).toEqual([
      ["lb", "converged"],
      ["web1", "converged"],
      ["web2", "converged"],
      ["db", "converged"],
    ]);
    const page = await afterReload(() => get("/"));
    expect(page.code, page.error).toBe(0);
    expect(page.body).toContain(GREETING);
    expect(page.body).toMatch(/Served by web[12]\./);
    expect(page.body).toContain('<link rel="stylesheet" href="/static/greetings/site.css">');
    expect(get("/static/greetings/site.css").body).toBe(readFileSync(join(EXAMPLE, "app/greetings/static/greetings/site.css"), "utf8"));
    // Both web hosts serve (round robin): four requests reach both.
    const servers = new Set(Array.from({ length: 4 }, () => /Served by (web[12])\./.exec(get("/").body)?.[1]));
    expect([...servers].sort()).toEqual(["web1", "web2"]);
    // gunicorn runs as the service user; the app logs to its own file.
    expect(await sh("web1", "ps -o user= -C gunicorn | sort -u")).toBe("sprint\n");
    expect(await sh("web1", "tail -n 1 /var/log/sprint/sprint.log")).toMatch(/INFO greetings\.views front page served by web1/);
    expect(await sh("web1", "crontab -l -u sprint")).toMatch(/^17 3 \* \* \* cd \/srv\/sprint\/app && .*manage\.py clearsessions$/m);
    expect(await sh("web1", "logrotate -d /etc/logrotate.conf 2>&1 | grep -c /var/log/sprint/ || true")).not.toBe("0\n");
    // The shipped tree is exactly app/: no __pycache__ appeared.
    expect(await sh("web1", "find /srv/sprint/app -name __pycache__ | wc -l")).toBe("0\n");
  }, 900_000);

  it("a second deploy changes nothing on any host", async () => {
    const r = await depc("deploy");
    expect(r.code, show(r)).toBe(0);
    expect(r.hosts.map((h) => [h.name, h.status, h.counts?.changed])).toEqual([
      ["lb", "converged", 0],
      ["web1", "converged", 0],
      ["web2", "converged", 0],
      ["db", "converged", 0],
    ]);
    expect(r.stdout).toMatch(/4 converged \(0 resources changed\)/);
  }, 600_000);

  it("a changed template and stylesheet: collectstatic runs again and gunicorn restarts exactly once per web host", async () => {
    const before = { web1: await spawns("web1"), web2: await spawns("web2") };
    edit("app/greetings/templates/greetings/index.html", (t) => t.replace("<h1>", '<h1 class="greeting">'));
    edit("app/greetings/static/greetings/site.css", (t) => `${t}.greeting { font-weight: bold; }\n`);
    const r = await depc("deploy");
    expect(r.code, show(r)).toBe(0);
    for (const web of ["web1", "web2"] as const) {
      const host = r.hosts.find((h) => h.name === web)!;
      const changed = host.resources.filter((x) => x.status === "changed").map((x) => `${x.kind} ${x.key}`);
      expect(changed, web).toContain("command collectstatic");
      expect(Number(await spawns(web)), web).toBe(Number(before[web]) + 1);
    }
    expect(get("/").body).toContain('<h1 class="greeting">Hello, world! (written by migration 0002)</h1>');
    expect(get("/static/greetings/site.css").body).toContain(".greeting { font-weight: bold; }");
    const again = await depc("deploy");
    expect(again.stdout, show(again)).toMatch(/4 converged \(0 resources changed\)/);
  }, 600_000);

  it("the cron job removed from the model is removed from the crontab", async () => {
    writeFileSync(join(project.dir, "env/bed.ts"), bedEnv({ aptSource, clearSessions: false }));
    const r = await depc("deploy");
    expect(r.code, show(r)).toBe(0);
    for (const web of ["web1", "web2"]) expect(await sh(web, "crontab -l -u sprint 2>&1 || true"), web).not.toContain("clearsessions");
  }, 600_000);
});

describe.skipIf(!pre.ok)("examples/django staging deployed onto one fresh host", () => {
  let bed: Testbed;
  let project: { dir: string; identity: string; cleanup: () => void };

  beforeAll(async () => {
    bed = await Testbed.start({ hosts: [{ name: "staging", systemd: true }] });
    const aptSource = (await bed.aptRepository()).sourcesListLine;
    // Staging's placement: PostgreSQL and the site on one host (one apt call for both components' Packages).
    project = djangoProject("staging", bedEnv({ aptSource, hosts: { staging: "postgres, django" } }));
  }, 900_000);

  afterAll(async () => {
    project?.cleanup();
    await bed?.stop();
  }, 120_000);

  it("serves the page from its own database; a second deploy changes nothing", async () => {
    const deploy = () => {
      const r = spawnSync(process.execPath, [join(repoRoot, "bin", "depc.js"), "deploy", "env/staging", "-F", bed.sshConfigFile], {
        cwd: project.dir,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1", DEPC_AGE_IDENTITY: project.identity },
        timeout: 900_000,
      });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr, hosts: [] };
    };
    const first = deploy();
    expect(first.code, show(first)).toBe(0);
    const page = await afterReload(() => {
      const r = spawnSync("curl", ["-sS", "--max-time", "10", "--resolve", `${SITE}:80:${bed.address("staging")}`, `http://${SITE}/`], { encoding: "utf8" });
      return { code: r.status, body: r.stdout, error: r.stderr };
    });
    expect(page.body, page.error).toContain(GREETING);
    expect(page.body).toContain("Served by staging.");
    const second = deploy();
    expect(second.stdout, show(second)).toMatch(/1 converged \(0 resources changed\)/);
  }, 900_000);
});
