// End-to-end: removing what left the model, as a user does it — edit the
// model, `depc plan`, `depc deploy`, `depc rollback`, `depc decommission` —
// with the built bin against real hosts of the test bed over OpenSSH. Needs
// root (see test/testbed/README.md): skipped with a message elsewhere, a
// failure in CI.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, repoRoot } from "../support/project.js";
import { Testbed, testbedPrerequisites } from "../testbed/index.js";

const pre = testbedPrerequisites({ systemd: false });
if (!pre.ok) {
  if (process.env.CI === "true") throw new Error(`test bed prerequisites missing in CI:\n  ${pre.missing.join("\n  ")}\n${pre.howTo}`);
  console.warn(`[removal e2e] skipping: ${pre.missing.join("; ")}.\n${pre.howTo}`);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A model: what each host runs, as TypeScript lines inside `build()`. */
function model(hosts: Record<string, string[]>, options = ""): Record<string, string> {
  const components = Object.entries(hosts)
    .map(([host, lines]) => `export const on_${host} = component({ name: "on_${host}", build() {\n${lines.map((l) => `    ${l}`).join("\n")}\n  } });`)
    .join("\n");
  return {
    "components/site.ts": `import { component, Command, Directory, File, Symlink } from "depc";\n${components}\n`,
    "env/bed.ts": `import { environment } from "depc";\nimport * as site from "../components/site.ts";\nexport default environment({\n  hosts: { ${Object.keys(hosts)
      .map((h) => `${h}: [site.on_${h}]`)
      .join(", ")} },\n  ${options}\n});\n`,
  };
}

describe.skipIf(!pre.ok)("removal over ssh (real hosts)", () => {
  let bed: Testbed;
  let project: { dir: string; cleanup: () => void };

  const write = (files: Record<string, string>) => {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(project.dir, name), text);
  };
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
  // Over ssh, as the deploy sees the host (a busybox host's root is its own).
  const sh = async (host: string, command: string) => (await bed.exec(host, command)).stdout;
  const exists = async (host: string, path: string) => (await bed.exec(host, `test -e '${path}' || test -L '${path}'`)).code === 0;

  beforeAll(async () => {
    bed = await Testbed.start({ hosts: [{ name: "h1" }, { name: "h2", userland: "busybox" }, { name: "gone" }] });
    project = makeProject({ "components/site.ts": "", "env/bed.ts": "" });
  }, 600_000);

  afterAll(async () => {
    project?.cleanup();
    await bed?.stop();
  }, 120_000);

  const full = [
    `Directory({ path: "/srv/t" });`,
    `Directory({ path: "/srv/t/a" });`,
    `File({ path: "/srv/t/a/f.txt", content: "one\\ntwo\\n" });`,
    `Symlink({ path: "/srv/link", target: "/srv/t" });`,
    `File({ path: "/srv/stay.txt", content: "s\\n" });`,
    `File({ path: "/srv/kept.txt", content: "k\\n", keep: true });`,
  ];

  it("plan lists what left the model and exits 2; deploy removes it; the host is as if the model had always been that way", async () => {
    write(model({ h1: full, h2: full, gone: [`File({ path: "/srv/gone.txt", content: "g\\n" })`] }));
    const first = await depc("deploy");
    expect(first.code, show(first)).toBe(0);
    expect(await exists("h1", "/srv/t/a/f.txt")).toBe(true);

    write(model({ h1: [`File({ path: "/srv/stay.txt", content: "s\\n" });`], h2: full, gone: [`File({ path: "/srv/gone.txt", content: "g\\n" })`] }));
    const plan = await depc("plan");
    expect(plan.code, show(plan)).toBe(2);
    expect(plan.stdout).toMatch(/^h1 +would remove +symlink \/srv\/link$/m);
    expect(plan.stdout).toMatch(/^h1 +would remove +file \/srv\/t\/a\/f\.txt$/m);
    expect(plan.stdout).toMatch(/^h1 +-one$/m);
    expect(plan.stdout).toMatch(/^h1 +would remove +directory \/srv\/t\/a$/m);
    expect(plan.stdout).toMatch(/^h1 +would remove +directory \/srv\/t$/m);
    expect(plan.stdout).toMatch(/^h1 +pending +0 would change, 1 ok, 4 would remove$/m);
    expect(plan.stdout).toMatch(/^h1 +kept +file \/srv\/kept\.txt \(keep: true\)$/m);
    expect(plan.stdout).toMatch(/1 with changes \(0 resources, 4 removals\)/);
    expect(await exists("h1", "/srv/t/a/f.txt")).toBe(true);

    const deploy = await depc("deploy");
    expect(deploy.code, show(deploy)).toBe(0);
    expect(deploy.stdout).toMatch(/^h1 +removed +file \/srv\/t\/a\/f\.txt$/m);
    expect(deploy.stdout).toMatch(/converged \(0 resources changed, 4 removed\)/);
    expect((await sh("h1", "ls -A /srv")).split("\n").filter(Boolean).sort()).toEqual(["kept.txt", "stay.txt"]);
    const again = await depc("plan");
    expect(again.code, show(again)).toBe(0);
  }, 300_000);

  it("a file that moved from one component to another stays", async () => {
    const files = model({ h1: [`File({ path: "/srv/stay.txt", content: "s\\n" });`], h2: [], gone: [`File({ path: "/srv/gone.txt", content: "g\\n" })`] });
    // h2's files move into a second component on the same host.
    files["components/site.ts"] += `export const moved = component({ name: "moved", build() {\n${full.map((l) => `    ${l}`).join("\n")}\n  } });\n`;
    files["env/bed.ts"] = files["env/bed.ts"]!.replace("h2: [site.on_h2]", "h2: [site.on_h2, site.moved]");
    write(files);
    const r = await depc("deploy");
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).not.toMatch(/^h2 +removed/m);
    expect(await sh("h2", "cat /srv/t/a/f.txt")).toBe("one\ntwo\n");
  }, 300_000);

  it("rollback runs the earlier bundle and removes what was added since", async () => {
    const base = [`File({ path: "/srv/stay.txt", content: "s\\n" });`];
    write(model({ h1: base, h2: [], gone: [`File({ path: "/srv/gone.txt", content: "g\\n" })`] }));
    expect((await depc("deploy", "--limit", "h1")).code).toBe(0);
    write(model({ h1: [...base, `File({ path: "/srv/added.txt", content: "new\\n" });`, `Directory({ path: "/srv/added" });`], h2: [], gone: [`File({ path: "/srv/gone.txt", content: "g\\n" })`] }));
    const forward = await depc("deploy", "--limit", "h1");
    expect(forward.code, show(forward)).toBe(0);
    expect(await exists("h1", "/srv/added.txt")).toBe(true);
    const back = await depc("rollback", "--limit", "h1");
    expect(back.code, show(back)).toBe(0);
    expect(back.stdout).toMatch(/^h1 +removed +file \/srv\/added\.txt$/m);
    expect(back.stdout).toMatch(/^h1 +removed +directory \/srv\/added$/m);
    expect(await exists("h1", "/srv/added.txt")).toBe(false);
    expect(await exists("h1", "/srv/added")).toBe(false);
    expect(await exists("h1", "/srv/stay.txt")).toBe(true);
  }, 300_000);

  it("a host whose state directory was lost gets a warning and no removals", async () => {
    write(model({ h1: [`File({ path: "/srv/stay.txt", content: "s\\n" });`, `File({ path: "/srv/other.txt", content: "o\\n" });`], h2: [], gone: [`File({ path: "/srv/gone.txt", content: "g\\n" })`] }));
    expect((await depc("deploy", "--limit", "h1")).code).toBe(0);
    await bed.exec("h1", "rm -rf /var/lib/depc/bed");
    write(model({ h1: [`File({ path: "/srv/stay.txt", content: "s\\n" });`], h2: [], gone: [`File({ path: "/srv/gone.txt", content: "g\\n" })`] }));
    const r = await depc("deploy", "--limit", "h1");
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^h1 +warning +the state directory \/var\/lib\/depc\/bed is new, but 1 of this bundle's files are already in place with their exact content: if it was lost, /m);
    expect(await exists("h1", "/srv/other.txt")).toBe(true);
  }, 300_000);

  it("a host that left the environment is named and left alone; decommission removes what depc put there", async () => {
    write(model({ h1: [`File({ path: "/srv/stay.txt", content: "s\\n" });`], h2: [] }));
    const r = await depc("deploy");
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain("depc: host gone left environment bed: it is left alone (what depc put there stays; remove it with 'depc decommission bed --host gone --yes')\n");
    expect(await exists("gone", "/srv/gone.txt")).toBe(true);
    const manifest = JSON.parse(readFileSync(join(project.dir, "build/bed/manifest.json"), "utf8"));
    expect(manifest.left).toEqual([{ name: "gone", address: "gone" }]);

    const still = await depc("decommission", "--host", "h1", "--yes");
    expect(still.code).toBe(1);
    expect(still.stderr).toBe("depc: host h1 is still in environment bed: take it out of the model first (a deploy would put everything back)\n");
    const dry = await depc("decommission", "--host", "gone");
    expect(dry.code, show(dry)).toBe(2);
    expect(dry.stdout).toMatch(/^gone +would remove +file \/srv\/gone\.txt$/m);
    expect(await exists("gone", "/srv/gone.txt")).toBe(true);
    const yes = await depc("decommission", "--host", "gone", "--yes");
    expect(yes.code, show(yes)).toBe(0);
    expect(yes.stdout).toMatch(/^gone +removed +file \/srv\/gone\.txt$/m);
    expect(await exists("gone", "/srv/gone.txt")).toBe(false);
    expect(JSON.parse(readFileSync(join(project.dir, "build/bed/manifest.json"), "utf8")).left).toBeUndefined();
    const after = await depc("deploy");
    expect(after.code, show(after)).toBe(0);
    expect(after.stdout).not.toContain("left environment");
  }, 300_000);
});
