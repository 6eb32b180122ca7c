import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Buildout, VirtualEnv, environment } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { compileFiles } from "../support/project.js";
import { requireTool } from "../support/shells.js";

// VirtualEnv and Buildout: one test per diagnostic with the exact text a user
// sees (DEPC2100-2113), and what the valid ones lower to.
const header = `import { environment, Buildout, VirtualEnv } from "depc";\n`;

const cases: [code: string, call: string, message: string][] = [
  ["DEPC2001", `VirtualEnv({ path: "venv" })`, 'VirtualEnv path must be absolute: "venv"'],
  ["DEPC2100", `VirtualEnv({ path: "/srv/venv", python: "bin/python3" })`, 'VirtualEnv "/srv/venv": python "bin/python3" must be a program name (like python3) or an absolute path.'],
  ["DEPC2101", `VirtualEnv({ path: "/srv/venv", requirements: "Django" as any })`, 'VirtualEnv "/srv/venv": requirements must be a list of strings, not "Django".'],
  ["DEPC2102", `VirtualEnv({ path: "/srv/venv", requirements: ["Django==5.0", " "] })`, 'VirtualEnv "/srv/venv": requirements[1] is empty.'],
  ["DEPC2103", `VirtualEnv({ path: "/srv/venv", pipOptions: ["--find-links\\n/x"] })`, 'VirtualEnv "/srv/venv": pipOptions[0] contains a control character.'],
  ["DEPC2001", `Buildout({ directory: "srv/app", config: "" })`, 'Buildout path must be absolute: "srv/app"'],
  ["DEPC2110", `Buildout({ directory: "/srv/app" } as any)`, 'Buildout "/srv/app" needs config: the content of buildout.cfg as a string.'],
  ["DEPC2111", `Buildout({ directory: "/srv/app", config: "", extraFiles: { "../x.cfg": "" } })`, 'Buildout "/srv/app": extra file "../x.cfg" must be a plain file name ([A-Za-z0-9_][A-Za-z0-9._-]*).'],
  ["DEPC2111", `Buildout({ directory: "/srv/app", config: "", extraFiles: { "buildout.cfg": "" } })`, 'Buildout "/srv/app": extra file "buildout.cfg" is reserved: give buildout.cfg as config.'],
  ["DEPC2112", `Buildout({ directory: "/srv/app", config: "", executable: "bin/buildout" })`, 'Buildout "/srv/app": executable "bin/buildout" must be a program name (like buildout), an absolute path or a VirtualEnv.'],
  ["DEPC2113", `Buildout({ directory: "/srv/app", config: "", timeout: 0 })`, 'Buildout "/srv/app": timeout 0 is not a positive whole number of seconds.'],
];

describe("VirtualEnv and Buildout diagnostics", () => {
  for (const [code, call, message] of cases) {
    it(`${code}: ${message}`, async () => {
      const result = await compileFiles({ "env/prod.ts": `${header}export default environment({ hosts: { web1: [\n  ${call},\n] } });\n` });
      expect(result.ok).toBe(false);
      expect(result.printed).toBe(`env/prod.ts:3:3 - error ${code}: ${message}\n\n3   ${call},\n    ${"~".repeat(call.indexOf("("))}\n\n`);
    });
  }

  it("a Buildout whose VirtualEnv is not on the host is an invalid reference", async () => {
    const result = await compileFiles({
      "env/prod.ts": `${header}const venv = VirtualEnv({ path: "/srv/venv" });\nexport default environment({ hosts: { web1: [\n  Buildout({ directory: "/srv/app", config: "", executable: venv }),\n] } });\n`,
    });
    expect(result.printed).toContain(
      'env/prod.ts:4:3 - error DEPC4010: buildout "/srv/app/buildout.cfg" (whenChanged) refers to virtualenv "/srv/venv", which is not on host "web1".',
    );
  });
});

describe("VirtualEnv and Buildout lowering", () => {
  it("one runtime call each; the buildout follows its venv and reacts to it", () => {
    const venv = VirtualEnv({ path: "/srv/app/venv/", requirements: ["zc.buildout==3.0.1", "-r /srv/app/constraints.txt\n"], pipOptions: ["--no-index", "--find-links", "/srv/wheels"] });
    const bo = Buildout({ directory: "/srv/app", config: "[buildout]\nparts =\n", extraFiles: { "versions.cfg": "[versions]\n", "base.cfg": "[buildout]\n" }, executable: venv, timeout: 600 });
    const bundle = compileValue(environment({ hosts: { h: [bo, venv] } })).bundles!.get("h")!;
    const steps = bundle.split("\n").filter((l) => l.startsWith("  depc_step "));
    expect(steps).toHaveLength(2);
    expect(steps[0]).toMatch(
      /^  depc_step 1 virtualenv '\/srv\/app\/venv' depc_virtualenv '\/srv\/app\/venv' 'python3' '0' 'sha256:[0-9a-f]{64}' depc_content_1 '--no-index' '--find-links' '\/srv\/wheels'$/,
    );
    expect(steps[1]).toMatch(
      /^  depc_step 2 buildout '\/srv\/app\/buildout\.cfg' depc_buildout 'buildout:\/srv\/app\/buildout\.cfg' '\/srv\/app' '\/srv\/app\/venv\/bin\/buildout' '0' '600' '1' 'sha256:[0-9a-f]{64}' 'buildout\.cfg' '[0-9a-f]{64}' depc_content_2 'base\.cfg' '[0-9a-f]{64}' depc_content_2_2 'versions\.cfg' '[0-9a-f]{64}' depc_content_2_3$/,
    );
    expect(bundle).toContain("depc_content_1() {\n  cat <<'DEPC_EOF'\nzc.buildout==3.0.1\n-r /srv/app/constraints.txt\nDEPC_EOF\n}");
    expect(bundle).toContain("    1) depc_owe 'buildout:/srv/app/buildout.cfg' ;;");
  });

  it("the digests follow what pip and buildout are asked to do, nothing else", () => {
    const line = (env: ReturnType<typeof environment>, index: number) => compileValue(env).bundles!.get("h")!.split("\n").filter((l) => l.startsWith("  depc_step "))[index]!;
    const digestOf = (l: string) => /'sha256:([0-9a-f]{64})'/.exec(l)![1];
    const venv = (extra: object) => line(environment({ hosts: { h: [VirtualEnv({ path: "/v", requirements: ["a"], ...extra })] } }), 0);
    expect(digestOf(venv({}))).toBe(digestOf(venv({ after: [] })));
    expect(digestOf(venv({}))).not.toBe(digestOf(venv({ pipOptions: ["--pre"] })));
    expect(digestOf(venv({}))).not.toBe(digestOf(venv({ requirements: ["a", "b"] })));
    const bo = (extra: object) => line(environment({ hosts: { h: [Buildout({ directory: "/b", config: "x", ...extra })] } }), 0);
    expect(digestOf(bo({}))).toBe(digestOf(bo({ timeout: 5 })));
    expect(digestOf(bo({}))).not.toBe(digestOf(bo({ offline: true })));
    expect(digestOf(bo({}))).not.toBe(digestOf(bo({ executable: "/opt/bin/buildout" })));
    expect(digestOf(bo({}))).not.toBe(digestOf(bo({ extraFiles: { "v.cfg": "" } })));
  });
});

describe.runIf(requireTool("shellcheck"))("VirtualEnv and Buildout bundles", () => {
  it("are shellcheck-clean (the runtime functions as tree-shaken into a bundle)", () => {
    const venv = VirtualEnv({ path: "/srv/venv", systemSitePackages: true, requirements: ["a"], pipOptions: ["--pre"] });
    const bo = Buildout({ directory: "/srv/app", config: "[buildout]\n", extraFiles: { "v.cfg": "x" }, executable: venv, offline: true, timeout: 5 });
    const bundle = compileValue(environment({ hosts: { h: [venv, bo, Buildout({ directory: "/srv/b", config: "" })] } })).bundles!.get("h")!;
    expect(bundle).toContain("depc_venv_run_pip() {");
    expect(bundle).toContain("depc_buildout_run() {");
    const dir = mkdtempSync(join(tmpdir(), "depc-python-sc-"));
    try {
      writeFileSync(join(dir, "h.sh"), bundle);
      const r = spawnSync("shellcheck", ["-s", "sh", join(dir, "h.sh")], { encoding: "utf8" });
      expect(r.stdout + r.stderr).toBe("");
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
