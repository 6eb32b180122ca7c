// End-to-end: User, Group, Download and Extract deployed with the built bin
// onto real hosts of the test bed over OpenSSH. h1 is Debian minbase (real
// useradd; no curl or wget), bb a busybox-only host (busybox wget, tar and
// unzip; no useradd or adduser). The release is served over HTTP from the
// bridge address by this test. Needs root (see test/testbed/README.md):
// skipped with a message elsewhere, a failure in CI.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, repoRoot } from "../support/project.js";
import { SUBNET, Testbed, testbedPrerequisites } from "../testbed/index.js";

const pre = testbedPrerequisites({ systemd: false });
if (!pre.ok) {
  if (process.env.CI === "true") throw new Error(`test bed prerequisites missing in CI:\n  ${pre.missing.join("\n  ")}\n${pre.howTo}`);
  console.warn(`[fetch e2e] skipping: ${pre.missing.join("; ")}.\n${pre.howTo}`);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe.skipIf(!pre.ok)("User, Group, Download and Extract over ssh (real hosts)", () => {
  let bed: Testbed;
  let project: { dir: string; cleanup: () => void };
  let server: Server;
  let base = "";
  const work = mkdtempSync(join(tmpdir(), "depc-fetch-e2e-"));
  const served = new Map<string, Buffer>();

  const depc = (command: string, ...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      const argv = [join(repoRoot, "bin", "depc.js"), command, "env/bed", "-F", bed.sshConfigFile, ...args];
      const child = spawn(process.execPath, argv, { cwd: project.dir, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  const sh = async (host: string, command: string) => (await bed.exec(host, command)).stdout;

  /** A release archive app-VERSION/ with index.txt, served at /app-VERSION.tar.gz; returns its sha256. */
  const release = (version: string): string => {
    const src = join(work, version);
    mkdirSync(join(src, `app-${version}`, "static"), { recursive: true });
    writeFileSync(join(src, `app-${version}`, "index.txt"), `release ${version}\n`);
    writeFileSync(join(src, `app-${version}`, "static", "app.css"), "body {}\n");
    const out = join(work, `app-${version}.tar.gz`);
    const r = spawnSync("tar", ["-czf", out, `app-${version}`], { cwd: src });
    if (r.status !== 0) throw new Error(String(r.stderr));
    const bytes = readFileSync(out);
    served.set(`/app-${version}.tar.gz`, bytes);
    return createHash("sha256").update(bytes).digest("hex");
  };

  const write = (version: string, sha: string, extra = "") => {
    const url = `${base}/app-${version}.tar.gz`;
    writeFileSync(
      join(project.dir, "components/site.ts"),
      `import { component, Directory, Download, Extract, Group, User } from "depc";
export const accounts = component({ name: "accounts", build() {
    Directory({ path: "/srv/app", owner: "app", group: "app", mode: 0o750 });
    User({ name: "app", home: "/srv/app", shell: "/usr/sbin/nologin", group: "app", groups: ["staff"], comment: "App" });
    Group({ name: "app" });
    ${extra}
  } });
export const release = component({ name: "release", build() {
    Directory({ path: "/srv/rel" });
    Download({ path: "/srv/rel/app.tar.gz", url: ${JSON.stringify(url)}, sha256: ${JSON.stringify(sha)} });
    Extract({ archive: "/srv/rel/app.tar.gz", to: "/srv/rel/current", strip: 1 });
  } });
`,
    );
    writeFileSync(
      join(project.dir, "env/bed.ts"),
      `import { environment } from "depc";\nimport * as site from "../components/site.ts";\nexport default environment({ hosts: { h1: [site.accounts], bb: [site.release] } });\n`,
    );
  };

  beforeAll(async () => {
    bed = await Testbed.start({ hosts: [{ name: "h1" }, { name: "bb", userland: "busybox" }] });
    project = makeProject({ "components/site.ts": "", "env/bed.ts": "" });
    server = createServer((req, res) => {
      const body = served.get(req.url ?? "");
      if (body === undefined) {
        res.writeHead(404);
        res.end();
      } else {
        res.writeHead(200, { "content-length": String(body.length) });
        res.end(body);
      }
    });
    // The bridge's address: the test hosts route only their own subnet.
    await new Promise<void>((resolve) => server.listen(0, `${SUBNET}.1`, resolve));
    base = `http://${SUBNET}.1:${(server.address() as AddressInfo).port}`;
  }, 600_000);

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    project?.cleanup();
    await bed?.stop();
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it("creates the user before what it owns, fetches and extracts a release, converges, and swaps in the next release", async () => {
    const v1 = release("1.0");
    write("1.0", v1);
    const first = await depc("deploy");
    expect(first.code, show(first)).toBe(0);
    expect(first.stdout).toMatch(/^h1 +changed +group app \(created\)\n(.*\n)*h1 +changed +user app \(created\)\n(.*\n)*h1 +changed +directory \/srv\/app \(created/m);
    const gid = (await sh("h1", "getent group app")).split(":")[2];
    expect(await sh("h1", "getent passwd app")).toMatch(new RegExp(`^app:x:\\d+:${gid}:App:/srv/app:/usr/sbin/nologin\\n$`));
    expect(await sh("h1", "id -nG app")).toBe("app staff\n");
    expect(await sh("h1", "stat -c %U:%G:%a /srv/app")).toBe("app:app:750\n");
    expect(first.stdout).toMatch(new RegExp(`^bb +changed +download /srv/rel/app\\.tar\\.gz \\(created, download ${base.replace(/\./g, "\\.")}/app-1\\.0\\.tar\\.gz\\)$`, "m"));
    expect(await sh("bb", "cat /srv/rel/current/index.txt")).toBe("release 1.0\n");

    const again = await depc("deploy");
    expect(again.code, show(again)).toBe(0);
    expect(again.stdout).not.toMatch(/^\S+ +changed /m);

    // Drift on the host is corrected; the next release is fetched and swapped in.
    await bed.exec("h1", "usermod -s /bin/sh app");
    const v2 = release("2.0");
    write("2.0", v2);
    const plan = await depc("plan");
    expect(plan.code, show(plan)).toBe(2);
    expect(plan.stdout).toMatch(/^h1 +would change +user app \(shell \/bin\/sh -> \/usr\/sbin\/nologin\)$/m);
    // --check compares the archive on the host as it is: the new release shows on the Download's line.
    expect(plan.stdout).toMatch(new RegExp(`^bb +would change +download /srv/rel/app\\.tar\\.gz \\(content, download ${base.replace(/\./g, "\\.")}/app-2\\.0\\.tar\\.gz\\)$`, "m"));
    const next = await depc("deploy");
    expect(next.code, show(next)).toBe(0);
    expect(next.stdout).toMatch(/^bb +changed +extract \/srv\/rel\/current \(extract \/srv\/rel\/app\.tar\.gz again \(it changed\)\)$/m);
    expect(await sh("bb", "cat /srv/rel/current/index.txt")).toBe("release 2.0\n");
    expect(await sh("bb", "ls -A /srv/rel")).toBe("app.tar.gz\ncurrent\n");
    expect(await sh("h1", "getent passwd app")).toMatch(/:\/usr\/sbin\/nologin\n$/);
  }, 300_000);

  it("a host without the tools fails with one line naming it, the resource and the tools", async () => {
    const v1 = release("1.0");
    write("1.0", v1, `Download({ path: "/srv/app.tgz", url: "${base}/app-1.0.tar.gz", sha256: "${v1}" });`);
    const r = await depc("deploy", "--limit", "h1");
    expect(r.code, show(r)).not.toBe(0);
    expect(r.stdout + r.stderr).toContain(`download /srv/app.tgz: cannot download ${base}/app-1.0.tar.gz: host h1 has neither 'curl' nor 'wget'`);
  }, 300_000);
});
