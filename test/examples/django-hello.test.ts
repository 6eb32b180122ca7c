import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { compile } from "../../compiler/build.js";
import { repoRoot } from "../support/project.js";
import { availableShells, busyboxPath, requireTool, runScript, type Shell } from "../support/shells.js";
import { Testbed, testbedPrerequisites } from "../testbed/index.js";

// The seed's "hello world", deployed for real: a WSGI app in a virtualenv,
// kept running by a supervisord of the deployment's own (dev, this machine)
// or by systemd (prod's web2, a systemd container of the test bed).
const root = "/tmp/depc-django-hello";
const url = "http://127.0.0.1:8765/";
const needs = ["python3", "supervisord", "supervisorctl"];
const missing = needs.filter((tool) => !requireTool(tool));

async function bundleOf(env: string, host: string): Promise<string> {
  const result = await compile(`examples/django-hello/env/${env}`, { cwd: repoRoot, cacheDir: false });
  expect(result.diagnostics).toEqual([]);
  return result.bundles!.get(host)!;
}

const get = (address: string) =>
  spawnSync("python3", ["-c", "import sys,urllib.request;print(urllib.request.urlopen(sys.argv[1],timeout=5).read().decode(),end='')", address], { encoding: "utf8" });

function stopSupervisord(): void {
  const pidfile = `${root}/supervisor/supervisord.pid`;
  if (existsSync(pidfile)) {
    const pid = Number(readFileSync(pidfile, "utf8"));
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
    for (let i = 0; i < 50 && existsSync(`/proc/${pid}`); i++) spawnSync("sleep", ["0.1"]);
  }
  rmSync(root, { recursive: true, force: true });
}

describe.skipIf(missing.length > 0 || process.getuid?.() !== 0)("django-hello dev: virtualenv + deployment-owned supervisord, served for real", () => {
  // busybox sh runs with busybox applets plus only the programs the app needs.
  const tools = mkdtempSync(join(tmpdir(), "depc-hello-tools-"));
  const shells = availableShells()
    .filter((s) => s.name === "dash" || s.name === "busybox sh")
    .map((s): Shell => (s.env?.PATH ? { ...s, env: { PATH: `${tools}:${busyboxPath(s.argv[0]!)}` } } : s));
  let bundle: string;
  let bundleDir: string;
  let state: string;

  beforeAll(async () => {
    for (const tool of needs) {
      // The real interpreter, not a wrapper script (a pyenv shim needs bash).
      const find = tool === "python3" ? "python3 -c 'import sys; print(sys.executable)'" : `command -v ${tool}`;
      symlinkSync(spawnSync("sh", ["-c", find], { encoding: "utf8" }).stdout.trim(), join(tools, tool));
    }
    bundleDir = mkdtempSync(join(tmpdir(), "depc-hello-"));
    bundle = join(bundleDir, "localhost.sh");
    writeFileSync(bundle, await bundleOf("dev", "localhost"));
  });
  afterEach(stopSupervisord);
  afterAll(() => {
    rmSync(tools, { recursive: true, force: true });
    rmSync(bundleDir, { recursive: true, force: true });
  });

  for (const shell of shells) {
    it(`under ${shell.name}: serves, converges, restarts exactly once on a change`, () => {
      state = mkdtempSync(join(tmpdir(), "depc-hello-state-"));
      onTestFinished(() => rmSync(state, { recursive: true, force: true }));
      const run = (...args: string[]) => runScript(shell, bundle, args, { env: { DEPC_STATE_DIR: state }, timeoutMs: 180_000 });
      const pid = () => spawnSync("supervisorctl", ["-c", `${root}/supervisor/supervisord.conf`, "pid", "hello"], { encoding: "utf8" }).stdout.trim();

      const check = run("--check");
      expect(check.status, check.stdout + check.stderr).toBe(2);
      expect(existsSync(root)).toBe(false);

      const first = run();
      expect(first.status, first.stdout + first.stderr).toBe(0);
      expect(first.stdout).toContain("changed       program");
      expect(get(url).stdout).toBe("Hello from dev\n");
      const started = pid();
      expect(started).toMatch(/^\d+$/);

      const second = run();
      expect(second.stdout).toContain(": 7 resources: 0 changed, 7 ok, 0 failed\n");
      expect(pid()).toBe(started);

      writeFileSync(`${root}/hello.ini`, "[hello]\ngreeting = edited by hand\nbind = 127.0.0.1\nport = 8765\n");
      const drift = run("--check");
      expect(drift.status).toBe(2);
      expect(drift.stdout).toContain("-greeting = edited by hand\n+greeting = Hello from dev\n");

      const repair = run();
      expect(repair.status, repair.stdout + repair.stderr).toBe(0);
      expect(repair.stdout).toMatch(/changed       file .*hello\.ini \(content\)/);
      const restarted = pid();
      expect(restarted).not.toBe(started);
      expect(get(url).stdout).toBe("Hello from dev\n");
      expect(run().stdout).toContain("0 changed");
      expect(pid()).toBe(restarted);
    }, 300_000);
  }
});

const bedReady = testbedPrerequisites({ systemd: true });
if (!bedReady.ok && process.env.CI === "true") throw new Error(`django-hello e2e: test bed prerequisites missing:\n  ${bedReady.missing.join("\n  ")}`);

describe.skipIf(!bedReady.ok)("django-hello prod: web2 runs the app under systemd", () => {
  let bed: Testbed;
  beforeAll(async () => {
    bed = await Testbed.start({ hosts: [{ name: "web2", systemd: true }] });
  }, 600_000);
  afterAll(async () => bed?.stop(), 120_000);

  it("the unit is installed, enabled and serving; a second run changes nothing", async () => {
    const bundle = await bundleOf("prod", "web2");
    expect((await bed.exec("web2", "cat > /root/web2.sh", { input: bundle })).code).toBe(0);
    const first = await bed.exec("web2", "sh /root/web2.sh", { timeoutMs: 180_000 });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect((await bed.exec("web2", "systemctl is-active hello.service; systemctl is-enabled hello.service")).stdout).toBe("active\nenabled\n");
    const served = await bed.exec("web2", `for i in 1 2 3 4 5 6 7 8 9 10; do python3 -c 'import urllib.request;print(urllib.request.urlopen("http://127.0.0.1:8080/").read().decode(),end="")' 2>/dev/null && break; sleep 0.5; done`);
    expect(served.stdout).toBe("Hello from production\n");
    const mainPid = async () => (await bed.exec("web2", "systemctl show -p MainPID --value hello.service")).stdout.trim();
    const before = await mainPid();
    const second = await bed.exec("web2", "sh /root/web2.sh");
    expect(second.stdout).toContain(": 6 resources: 0 changed, 6 ok, 0 failed\n");
    expect(await mainPid()).toBe(before);
  }, 600_000);
});
