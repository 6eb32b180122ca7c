// End-to-end: `depc deploy`, `plan` and `rollback` as a user runs them (the built
// bin, a real process) against real hosts of the test bed, over the system's
// OpenSSH with the bed's ssh config. Needs root (see test/testbed/README.md):
// skipped with a message elsewhere, a failure in CI.
//
// The model is examples/webcluster (postgres on db1 provides the database to the
// apps on app1/app2, which provide backends to haproxy on lb1: three waves), plus
// an independent host "mon" on the busybox-only test host.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, repoRoot } from "../support/project.js";
import { Testbed, testbedPrerequisites } from "../testbed/index.js";

const pre = testbedPrerequisites({ systemd: false });
if (!pre.ok) {
  if (process.env.CI === "true") {
    throw new Error(`test bed prerequisites missing in CI:\n  ${pre.missing.join("\n  ")}\n${pre.howTo}`);
  }
  console.warn(`[deploy e2e] skipping the deploy e2e tests: ${pre.missing.join("; ")}.\n${pre.howTo}`);
}

/** The runtime's host-side lock and kept bundles (runtime/): these tests need them. */
const runtimeText = readdirSync(join(repoRoot, "runtime"))
  .filter((f) => f.endsWith(".sh"))
  .map((f) => readFileSync(join(repoRoot, "runtime", f), "utf8"))
  .join("\n");
const runtimeHasLock = /^depc_lock[a-z_]*\(\)/m.test(runtimeText);
const runtimeKeepsBundles = /^depc_keep_bundle\(\)/m.test(runtimeText);
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

const EXAMPLE = join(repoRoot, "examples", "webcluster", "components");
const RELEASE = "/srv/webapp/releases/2026.11.1";

const monitor = `import { component, Directory, File } from "depc";
/** Independent of the others: nothing provided, nothing required. */
export const monitor = component({
  name: "monitor",
  settings: { interval: 30 },
  build(s) {
    Directory({ path: "/srv/mon" });
    File({ path: "/srv/mon/mon.conf", content: \`interval = \${s.interval}\\n\` });
  },
});
`;
const env = (workers = 4) => `import { environment } from "depc";
import { app } from "../components/app.ts";
import { haproxy } from "../components/haproxy.ts";
import { postgres } from "../components/postgres.ts";
import { monitor } from "../components/monitor.ts";

export default environment({
  hosts: {
    lb1: [haproxy],
    app1: [app],
    app2: [app.with({ workers: 8 })],
    db1: [postgres],
    mon: [monitor],
  },
  settings: { app: { workers: ${workers} } },
});
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json: Report;
}
interface HostJson {
  name: string;
  status: string;
  cause?: { kind: string; message: string };
  counts?: { ok: number; changed: number; would_change: number; failed: number };
  timings: { started_at_ms: number; duration_ms: number };
  resources: { kind: string; key: string; status: string; diff?: { added: number; removed: number }; diff_text?: string }[];
  rolled_back_to?: string;
}
interface Report {
  exit: number;
  order: { source: string; after: Record<string, string[]> };
  hosts: HostJson[];
}

describe.skipIf(!pre.ok)("depc deploy over ssh (real hosts)", () => {
  let bed: Testbed;
  let project: { dir: string; cleanup: () => void };
  let runs = 0;

  /** Starts the CLI; `done` resolves when it exits. */
  function start(command: string, args: string[] = [], env: Record<string, string> = {}): { done: Promise<Run>; interrupt: () => void } {
    const json = join(project.dir, `run-${++runs}.json`);
    const argv = [join(repoRoot, "bin", "depc.js"), command, ...(args.includes("--from") ? [] : ["env/bed"]), "-F", bed.sshConfigFile, "--json", json, ...args];
    const child = spawn(process.execPath, argv, { cwd: project.dir, env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const done = new Promise<Run>((resolve) =>
      child.on("close", (code) => {
        const report = existsSync(json) ? (JSON.parse(readFileSync(json, "utf8")) as Report) : ({ exit: -1, order: { source: "", after: {} }, hosts: [] } as Report);
        resolve({ code, stdout, stderr, json: report });
      }),
    );
    return { done, interrupt: () => child.kill("SIGINT") };
  }
  const depc = (command: string, ...args: string[]) => start(command, args).done;
  const host = (r: Run, name: string) => r.json.hosts.find((h) => h.name === name)!;
  const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  const sh = async (name: string, command: string, user?: string) => {
    const r = await bed.exec(name, command, user ? { user } : {});
    if (r.code !== 0) throw new Error(`${name}: ${command}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const root = async (name: string, script: string) => {
    const r = await bed.rootExec(name, script);
    if (r.code !== 0) throw new Error(`${name} (root): ${script}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  /** No stack traces, no multi-line causes: every host line starts with a host name. */
  const noTrace = (r: Run) => {
    expect(r.stderr + r.stdout).not.toMatch(/^\s+at |Error: |internal error/m);
  };
  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  /**
   * Makes the bundle's facts step on `name` slow while /srv/slow exists: a
   * sha256sum first on PATH that touches /run/slow.started and sleeps.
   */
  const slowDown = (name: string, seconds: number) =>
    root(
      name,
      `cat >/usr/local/bin/sha256sum <<'EOF'
#!/bin/sh
if [ -e /srv/slow ]; then : >/run/slow.started; sleep ${seconds}; fi
exec /usr/bin/sha256sum "$@"
EOF
chmod 755 /usr/local/bin/sha256sum; rm -f /run/slow.started; : >/srv/slow`,
    );
  const speedUp = (name: string) => root(name, "rm -f /srv/slow /usr/local/bin/sha256sum /run/slow.started");
  /** Waits until no bundle runs on the host (an orphan of a dropped ssh session may still). */
  const idle = (name: string) => waitFor(`no bundle running on ${name}`, async () => (await bed.rootExec(name, "pgrep -f 'depc-ru[n]'")).code !== 0);

  beforeAll(async () => {
    bed = await Testbed.start({
      hosts: [{ name: "db1" }, { name: "app1" }, { name: "app2", shell: "mksh" }, { name: "lb1" }, { name: "mon", userland: "busybox" }],
    });
    const files: Record<string, string> = { "components/monitor.ts": monitor, "env/bed.ts": env() };
    for (const f of readdirSync(EXAMPLE)) files[`components/${f}`] = readFileSync(join(EXAMPLE, f), "utf8");
    project = makeProject(files);
  }, 600_000);

  afterAll(async () => {
    project?.cleanup();
    await bed?.stop();
  }, 120_000);

  it("deploys the example in waves, providers first, and every host holds its files", async () => {
    const r = await depc("deploy");
    expect(r.code, show(r)).toBe(0);
    noTrace(r);
    expect(r.stdout).toMatch(/^db1 +changed +file \/etc\/postgresql\/15\/main\/conf\.d\/depc\.conf \(created\)$/m);
    expect(r.stdout).toMatch(/^app2 +changed +file \/srv\/webapp\/releases\/2026\.11\.1\/app\.ini \(created\)$/m);
    expect(r.stdout).toMatch(/^host +result +ok +changed +failed +time$/m);
    expect(r.stdout).toMatch(/^lb1 +converged +\d+ +\d+ +0 +\d+\.\d\ds$/m);
    expect(r.stdout).toMatch(/^depc: deployed bed: 5 hosts: 5 converged \(\d+ resources changed\) in \d+\.\d\ds$/m);
    expect(r.json.hosts.map((h) => [h.name, h.status])).toEqual([
      ["lb1", "converged"],
      ["app1", "converged"],
      ["app2", "converged"],
      ["db1", "converged"],
      ["mon", "converged"],
    ]);
    // Per-host edges from provide/require; each host starts after its providers end.
    expect(r.json.order.after).toEqual({ lb1: ["app1", "app2"], app1: ["db1"], app2: ["db1"], db1: [], mon: [] });
    const end = (h: string) => host(r, h).timings.started_at_ms + host(r, h).timings.duration_ms;
    expect(host(r, "app1").timings.started_at_ms).toBeGreaterThanOrEqual(end("db1"));
    expect(host(r, "app2").timings.started_at_ms).toBeGreaterThanOrEqual(end("db1"));
    expect(host(r, "lb1").timings.started_at_ms).toBeGreaterThanOrEqual(Math.max(end("app1"), end("app2")));
    expect(host(r, "mon").timings.started_at_ms).toBeLessThan(end("db1"));

    // The real state, read over ssh.
    const ini1 = await sh("app1", `cat ${RELEASE}/app.ini`);
    expect(ini1).toContain("workers = 4\n");
    expect(ini1).toContain("url = postgresql://webapp@db1:5432/webapp\n");
    expect(await sh("app2", `cat ${RELEASE}/app.ini`)).toContain("workers = 8\n");
    expect(await sh("app1", `stat -c %a ${RELEASE}/app.ini; readlink /srv/webapp/current`)).toBe("640\nreleases/2026.11.1\n");
    const cfg = await sh("lb1", "cat /etc/haproxy/haproxy.cfg");
    expect(cfg).toContain("    server app1 app1:8080 check\n    server app2 app2:8080 check\n");
    expect(await sh("db1", "cat /etc/postgresql/15/main/conf.d/depc.conf")).toContain("shared_buffers = 128MB\n");
    expect(await sh("mon", "cat /srv/mon/mon.conf")).toBe("interval = 30\n");
    expect(await sh("mon", "readlink /bin/sh")).toMatch(/busybox/);
  });

  it("a second deploy changes nothing on any host", async () => {
    const r = await depc("deploy");
    expect(r.code, show(r)).toBe(0);
    for (const h of r.json.hosts) expect([h.name, h.status, h.counts?.changed]).toEqual([h.name, "converged", 0]);
    expect(r.stdout).not.toMatch(/^\S+ +changed +/m);
    expect(r.stdout).toMatch(/5 converged \(0 resources changed\)/);
  });

  it("sessions opened while the model builds: a host takes its own when its target is unchanged; a wrong guess runs nothing", async () => {
    // The system's ssh, behind a wrapper that logs each invocation's arguments.
    const wrapDir = join(project.dir, "ssh-wrapper");
    mkdirSync(wrapDir, { recursive: true });
    const log = join(wrapDir, "log");
    const realSsh = execFileSync("sh", ["-c", "command -v ssh"], { encoding: "utf8" }).trim();
    writeFileSync(join(wrapDir, "ssh"), `#!/bin/sh\nprintf '%s\\n' "$*" >>'${log}'\nexec '${realSsh}' "$@"\n`, { mode: 0o755 });
    // The previous build is the guess: it lists mon at lb1's address, which the new build does not.
    const manifestFile = join(project.dir, "build", "bed", "manifest.json");
    const previous = JSON.parse(readFileSync(manifestFile, "utf8")) as { hosts: { name: string; address: string }[] };
    for (const h of previous.hosts) if (h.name === "mon") h.address = "lb1";
    writeFileSync(manifestFile, JSON.stringify(previous));
    await root("lb1", "rm -rf /srv/mon");

    const r = await start("deploy", [], { PATH: `${wrapDir}:${process.env.PATH}` }).done;
    expect(r.code, show(r)).toBe(0);
    for (const h of r.json.hosts) expect([h.name, h.status, h.counts?.changed]).toEqual([h.name, "converged", 0]);
    // Order holds: each host starts after its providers end.
    const end = (h: string) => host(r, h).timings.started_at_ms + host(r, h).timings.duration_ms;
    expect(host(r, "app1").timings.started_at_ms).toBeGreaterThanOrEqual(end("db1"));
    expect(host(r, "app2").timings.started_at_ms).toBeGreaterThanOrEqual(end("db1"));
    expect(host(r, "lb1").timings.started_at_ms).toBeGreaterThanOrEqual(Math.max(end("app1"), end("app2")));
    // One ssh per host, opened before the build (its size comes on stdin: the argument "-"), except
    // mon's guess: that session (to lb1) ended unused, and mon opened its own at its turn.
    const calls = readFileSync(log, "utf8").trim().split("\n");
    const early = (address: string) => calls.filter((c) => new RegExp(` -- ${address} .* depc '?[0-9a-f]+'? '?-'? '?--quiet'?$`).test(c)).length;
    const late = (address: string) => calls.filter((c) => new RegExp(` -- ${address} .* depc '?[0-9a-f]+'? '?[0-9]+'? '?--quiet'?$`).test(c)).length;
    expect(calls, calls.join("\n")).toHaveLength(6);
    for (const h of ["db1", "app1", "app2"]) expect([h, early(h), late(h)], calls.join("\n")).toEqual([h, 1, 0]);
    expect([early("lb1"), late("lb1")], calls.join("\n")).toEqual([2, 0]);
    expect([early("mon"), late("mon")], calls.join("\n")).toEqual([0, 1]);
    // Nothing of mon's ran on lb1.
    expect((await bed.rootExec("lb1", "test -e /srv/mon")).code).toBe(1);
  });

  it("plan after a manual edit on one host shows that host's diff and exits 2; 0 when nothing would change", async () => {
    await sh("app2", `printf 'debug = true\\n' >>${RELEASE}/app.ini`);
    const r = await depc("plan");
    expect(r.code, show(r)).toBe(2);
    expect(r.stdout).toMatch(new RegExp(`^app2 +would change +file ${RELEASE.replaceAll(".", "\\.")}/app\\.ini \\(content\\)$`, "m"));
    expect(r.stdout).toMatch(/^app2 +-debug = true$/m);
    expect(r.stdout).toMatch(/^app2 +\+\+\+ \/srv\/webapp\/releases\/2026\.11\.1\/app\.ini \(depc\)$/m);
    expect(r.stdout).not.toMatch(/^(lb1|app1|db1|mon) +would change/m);
    expect(r.stdout).toMatch(/^depc: planned bed: 5 hosts: 1 with changes \(1 resource\), 4 up to date in/m);
    const app2 = host(r, "app2");
    expect(app2.status).toBe("pending");
    const changed = app2.resources.find((x) => x.status === "would change")!;
    expect(changed.diff).toEqual({ added: 0, removed: 1 });
    expect(changed.diff_text).toContain("-debug = true");
    expect(r.json.hosts.filter((h) => h.status === "clean").map((h) => h.name)).toEqual(["lb1", "app1", "db1", "mon"]);
    // The plan changed nothing.
    expect(await sh("app2", `tail -n 1 ${RELEASE}/app.ini`)).toBe("debug = true\n");

    const fix = await depc("deploy", "--limit", "app2");
    expect(fix.code, show(fix)).toBe(0);
    expect(host(fix, "app2").counts?.changed).toBe(1);
    const clean = await depc("plan");
    expect(clean.code, show(clean)).toBe(0);
  });

  it("--from deploys an existing build; --limit and --skip select hosts", async () => {
    const r = await depc("deploy", "--from", "build/bed", "--limit", "db1,mon", "--skip", "mon");
    expect(r.code, show(r)).toBe(0);
    expect(r.json.hosts.map((h) => h.name)).toEqual(["db1"]);
    const bad = await depc("deploy", "--limit", "nope");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('depc: unknown host "nope"; the hosts are: lb1, app1, app2, db1, mon\n');
  });

  it("unreachable host, wrong host key, permission denied, sh missing, disk full, sudo password: one line each", async () => {
    // Wrong host key: app1's key presented for mon's known_hosts entry.
    const wrong = join(bed.dir, "wrong_known_hosts");
    const app1Key = readFileSync(join(bed.dir, "known_hosts", "app1"), "utf8").split(" ").slice(1).join(" ");
    writeFileSync(wrong, `mon,${bed.address("mon")} ${app1Key}`);
    const cases: [args: string[], name: string, kind: string, message: RegExp, prepare?: () => Promise<unknown>, undo?: () => Promise<unknown>][] = [
      [["--limit", "mon", "-o", "ControlPath=none", "-o", "Port=2"], "mon", "unreachable", /^unreachable: connection refused, is sshd running\? \(ssh: connect to host [\d.]+ port 2: Connection refused\)$/],
      [["--limit", "mon", "-o", "ControlPath=none", "-o", `UserKnownHostsFile=${wrong}`], "mon", "host-key", /^wrong host key: /],
      [["--limit", "db1", "-o", "ControlPath=none", "--user", "nobody"], "db1", "permission-denied", /^permission denied: the ssh login was refused \(nobody@[\d.]+: Permission denied \(publickey\)\.\)$/],
      [
        ["--limit", "app1"],
        "app1",
        "no-sh",
        /^no 'sh' on the host's PATH: depc needs a POSIX sh there: bash: line 1: sh: command not found$/,
        () => root("app1", "mv /usr/bin/sh /usr/bin/sh.off"),
        // Over ssh: root's login shell is bash, and nsenter's /bin/sh is gone.
        () => sh("app1", "mv /usr/bin/sh.off /usr/bin/sh"),
      ],
      [
        ["--limit", "lb1"],
        "lb1",
        "disk-full",
        /^upload failed: disk full on the host \(.*No space left on device\)$/,
        () => root("lb1", "mount -t tmpfs -o size=4k depc-full /tmp"),
        () => root("lb1", "umount /tmp"),
      ],
      [
        ["--limit", "db1", "--user", "nosudo", "--sudo"],
        "db1",
        "sudo",
        /^sudo wants a password \(depc runs 'sudo -n'\): allow this user NOPASSWD sudo, or deploy as root$/,
        () => bed.addUser("db1", "nosudo", { sudo: "none" }),
      ],
    ];
    for (const [args, name, kind, message, prepare, undo] of cases) {
      await prepare?.();
      let r: Run;
      try {
        r = await depc("deploy", ...args);
      } finally {
        await undo?.();
      }
      expect(r.code, show(r)).toBe(1);
      noTrace(r);
      expect(host(r, name).status).toBe("error");
      expect(host(r, name).cause?.kind, show(r)).toBe(kind);
      expect(host(r, name).cause?.message, show(r)).toMatch(message);
      // The live line: host name, "error", the cause, on one line.
      const line = r.stdout.split("\n").find((l) => l.startsWith(`${name} `) && / error /.test(l));
      expect(line, show(r)).toBeDefined();
      expect(line!.replace(/^\S+ +error +/, "")).toMatch(message);
    }
    const after = await depc("deploy");
    expect(after.code, show(after)).toBe(0);
  });

  it("a host whose sshd stops mid-deploy is reported, its dependents skipped, the others converge; a rerun converges", async () => {
    await sh("mon", "printf 'interval = 1\\n' >/srv/mon/mon.conf");
    await slowDown("db1", 4);
    let r: Run;
    try {
      const run = start("deploy");
      await waitFor("db1's bundle to start", async () => (await bed.rootExec("db1", "test -e /run/slow.started")).code === 0);
      await bed.stopSshd("db1");
      r = await run.done;
    } finally {
      await speedUp("db1");
    }
    expect(r.code, show(r)).toBe(1);
    noTrace(r);
    expect(host(r, "db1")).toMatchObject({ status: "error", cause: { kind: "connection-lost" } });
    expect(host(r, "db1").cause!.message).toMatch(
      // stopSshd first closes the control master (ssh -O exit): its client ends silently with 255.
      /^ssh ended without a message \(exit 255: the connection closed, or the remote program was killed on the host\) while the bundle ran; run 'depc deploy' again, it converges$/,
    );
    expect(r.stdout).toMatch(/^db1 +error +ssh ended without a message/m);
    for (const name of ["app1", "app2"]) {
      expect(host(r, name)).toMatchObject({ status: "skipped", cause: { kind: "dependency", message: "skipped: waits for db1, which did not converge" } });
      expect(r.stdout).toMatch(new RegExp(`^${name} +skipped +waits for db1, which did not converge$`, "m"));
    }
    expect(host(r, "lb1")).toMatchObject({ status: "skipped", cause: { message: "skipped: waits for app1, which was skipped" } });
    expect(host(r, "mon")).toMatchObject({ status: "converged", counts: { changed: 1 } });
    expect(await sh("mon", "cat /srv/mon/mon.conf")).toBe("interval = 30\n");
    expect(r.stdout).toMatch(/^depc: deployed bed: 5 hosts: 1 converged \(1 resource changed\), 1 error \(not run to the end\), 3 skipped in/m);

    await bed.startSshd("db1");
    await idle("db1");
    const again = await depc("deploy");
    expect(again.code, show(again)).toBe(0);
    expect(again.json.hosts.every((h) => h.status === "converged")).toBe(true);
  });

  it("Ctrl-C stops the run on the host too (exit 130); --timeout gives up on a host", async () => {
    await sh("app1", `printf 'x\\n' >>${RELEASE}/app.ini`);
    await slowDown("app1", 3);
    let r: Run;
    let timedOut: Run;
    try {
      const run = start("deploy", ["--limit", "app1,db1,lb1"]);
      await waitFor("app1's bundle to start", async () => (await bed.rootExec("app1", "test -e /run/slow.started")).code === 0);
      const t0 = Date.now();
      run.interrupt();
      r = await run.done;
      expect(Date.now() - t0).toBeLessThan(2500);
      await idle("app1");
      await root("app1", "rm -f /run/slow.started");
      timedOut = await depc("deploy", "--limit", "app1", "--timeout", "1");
    } finally {
      await speedUp("app1");
    }
    expect(r.code, show(r)).toBe(130);
    expect(r.stderr).toContain("depc: interrupted: stopping the running hosts\n");
    expect(host(r, "app1")).toMatchObject({ status: "error", cause: { kind: "interrupted", message: "interrupted" } });
    expect(host(r, "lb1")).toMatchObject({ status: "skipped" });
    if (runtimeHasLock) expect(await sh("app1", "tail -n 1 /var/lib/depc/bed/runs.log")).toMatch(/ apply interrupted /);
    expect(timedOut.code, show(timedOut)).toBe(1);
    expect(host(timedOut, "app1").cause).toEqual({ kind: "timeout", message: "timed out after 1s while the bundle ran; the host stops the bundle within 10s" });
    await idle("app1");
    const again = await depc("deploy", "--limit", "app1");
    expect(again.code, show(again)).toBe(0);
    expect(host(again, "app1").counts?.changed).toBe(1);
  });

  it("runs as a non-root user with NOPASSWD sudo (--user --sudo)", async () => {
    await bed.addUser("app1", "deployer", { sudo: "nopasswd" });
    await sh("app1", `rm -rf /srv/webapp`);
    const r = await depc("deploy", "--limit", "app1", "--user", "deployer", "--sudo");
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^depc: deploying bed: 1 host of 5 from build\/bed, with sudo$/m);
    expect(host(r, "app1").counts?.changed).toBe(4);
    expect(await sh("app1", `stat -c %U:%a ${RELEASE}/app.ini`)).toBe("root:640\n");
    // The bundle ran as root: root's state directory.
    expect(await sh("app1", "test -d /var/lib/depc/bed && echo yes")).toBe("yes\n");
    // Without --sudo the same user cannot write there: a failed resource, reported as such.
    await sh("app1", `rm ${RELEASE}/app.ini`);
    const denied = await depc("deploy", "--limit", "app1", "--user", "deployer");
    expect(denied.code).toBe(1);
    expect(host(denied, "app1").status).toBe("failed");
    // The failed line, then the failing tool's output under it; the table's cause is the telling line.
    expect(denied.stdout).toMatch(/^app1 +failed +file \/srv\/webapp\/releases\/2026\.11\.1\/app\.ini: .*:\n(app1 {16,}.*\n)*app1 {16,}.*Permission denied\n/m);
    expect(host(denied, "app1").cause?.message ?? JSON.stringify(host(denied, "app1"))).toMatch(/Permission denied/);
    expect((await depc("deploy", "--limit", "app1")).code).toBe(0);
  });

  it("rollback runs the bundle applied before the current one, as kept in the state directory (--state-dir)", async () => {
    // The runtime's layout (runtime/state.sh): bundles/<hex>.sh, bundles/.order, runs.log.
    // Seeded here from two builds, so this tests depc's side alone.
    const state = "/srv/rollback-state";
    const first = readFileSync(join(project.dir, "build/bed/app1.sh"));
    writeFileSync(join(project.dir, "env/bed.ts"), env(6));
    const r = await depc("deploy", "--limit", "app1");
    expect(r.code, show(r)).toBe(0);
    expect(await sh("app1", `grep workers ${RELEASE}/app.ini`)).toBe("workers = 6\n");
    const second = readFileSync(join(project.dir, "build/bed/app1.sh"));
    const [a, b] = [sha256(first), sha256(second)];
    await sh("app1", `mkdir -p ${state}/bundles && chmod 700 ${state}`);
    await bed.exec("app1", `cat >${state}/bundles/${a}.sh`, { input: first });
    await bed.exec("app1", `cat >${state}/bundles/${b}.sh`, { input: second });
    await sh("app1", `printf '%s\\n' ${a} ${b} >${state}/bundles/.order`);
    await sh("app1", `printf '%s\\n' '2026-11-24T10:00:00Z ${a} apply converged' '2026-11-24T10:05:00Z ${b} apply converged' >${state}/runs.log`);

    const back = await depc("rollback", "--limit", "app1", "--state-dir", state);
    expect(back.code, show(back)).toBe(0);
    expect(back.stdout).toMatch(new RegExp(`^app1 +rollback +to ${a.slice(0, 12)} \\(from ${b.slice(0, 12)}\\)$`, "m"));
    expect(back.stdout).toMatch(/^app1 +changed +file \/srv\/webapp\/releases\/2026\.11\.1\/app\.ini \(content\)$/m);
    expect(host(back, "app1").rolled_back_to).toBe(`sha256:${a}`);
    expect(await sh("app1", `grep workers ${RELEASE}/app.ini`)).toBe("workers = 4\n");

    const missing = await depc("rollback", "--limit", "app1", "--state-dir", state, "--to", "0000");
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/^app1 +error +no kept bundle matches 0000$/m);
    expect(missing.stdout).toContain(`app1: kept bundles in ${state} (newest first):\n`);
    expect(missing.stdout).toContain(`  ${b.slice(0, 12)}`);
    const none = await depc("rollback", "--limit", "app1", "--state-dir", "/srv/no-state");
    expect(none.code).toBe(1);
    expect(host(none, "app1").cause?.message).toMatch(/^no kept bundles on the host/);
    writeFileSync(join(project.dir, "env/bed.ts"), env());
    expect((await depc("deploy")).code).toBe(0);
  });

  // The runtime keeps what it applies (runtime/state.sh, depc_keep_bundle): the whole
  // loop, deploy → deploy → rollback, with nothing seeded.
  const keepLoop = "rollback after two deploys returns to the first (the runtime's kept bundles)";
  if (!runtimeKeepsBundles) {
    it.todo(keepLoop);
  } else {
    it(keepLoop, async () => {
      expect((await depc("deploy", "--limit", "app1")).code).toBe(0);
      const a = sha256(readFileSync(join(project.dir, "build/bed/app1.sh")));
      writeFileSync(join(project.dir, "env/bed.ts"), env(7));
      try {
        const r = await depc("deploy", "--limit", "app1");
        expect(r.code, show(r)).toBe(0);
        expect(r.stdout, show(r)).not.toMatch(/ warning /);
        const b = sha256(readFileSync(join(project.dir, "build/bed/app1.sh")));
        expect(await sh("app1", `tail -n 2 /var/lib/depc/bed/bundles/.order`)).toBe(`${a}\n${b}\n`);
        const back = await depc("rollback", "--limit", "app1");
        expect(back.code, show(back)).toBe(0);
        expect(host(back, "app1").rolled_back_to).toBe(`sha256:${a}`);
        expect(await sh("app1", `grep workers ${RELEASE}/app.ini`)).toBe("workers = 4\n");
        // Rolled back, a is current: rolling back again returns to b.
        const again = await depc("rollback", "--limit", "app1");
        expect(host(again, "app1").rolled_back_to).toBe(`sha256:${b}`);
        expect(await sh("app1", `grep workers ${RELEASE}/app.ini`)).toBe("workers = 7\n");
      } finally {
        writeFileSync(join(project.dir, "env/bed.ts"), env());
        expect((await depc("deploy")).code).toBe(0);
      }
    });
  }

  // Needs the runtime's lock (exit 3, a message naming the holder): written against that
  // contract; it turns from todo into a test when runtime/ has depc_lock*.
  const concurrent = "two concurrent deploys to one host: one waits or fails cleanly, never interleaves";
  if (!runtimeHasLock) {
    it.todo(concurrent);
  } else {
    it(concurrent, async () => {
      await sh("app1", `printf 'x\\n' >>${RELEASE}/app.ini`);
      await slowDown("app1", 3);
      let first: Run;
      let second: Run;
      try {
        const a = start("deploy", ["--limit", "app1"]);
        await waitFor("app1's first bundle to start", async () => (await bed.rootExec("app1", "test -e /run/slow.started")).code === 0);
        second = await depc("deploy", "--limit", "app1", "--from", "build/bed");
        first = await a.done;
      } finally {
        await speedUp("app1");
      }
      expect(first.code, show(first)).toBe(0);
      expect(host(first, "app1").counts?.changed).toBe(1);
      noTrace(second);
      if (second.code === 0) {
        // It waited: it ran after the first, and found nothing left to do.
        expect(host(second, "app1").counts?.changed, show(second)).toBe(0);
      } else {
        expect(second.code, show(second)).toBe(1);
        expect(host(second, "app1").cause?.kind, show(second)).toBe("locked");
        expect(host(second, "app1").cause?.message, show(second)).toMatch(/pid \d+/);
      }
    });
  }
});
