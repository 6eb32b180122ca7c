/**
 * Package, compiler side: each diagnostic with the exact text a user sees,
 * two Packages of one name, the name and version grammars, and the lowering
 * (every Package of a host is one depc_package call, see "Collected kinds"
 * in compiler/ARCHITECTURE.md). Its runtime: test/runtime/package.test.ts;
 * on real hosts with real apt: test/e2e/package.test.ts.
 */
import { describe, expect, it } from "vitest";
import { environment, File, Package } from "../../model/index.js";
import { compileValue } from "../../test/support/inmemory.js";
import { compileFiles } from "../../test/support/project.js";
import { packageNameProblem, packageVersionProblem } from "./compile.js";

const header = `import { environment, File, Package } from "depc";\n`;

async function printed(call: string): Promise<string> {
  const result = await compileFiles({ "env/prod.ts": `${header}export default environment({ hosts: { web1: [\n  ${call},\n] } });\n` });
  expect(result.ok).toBe(false);
  return result.printed;
}

describe("Package diagnostics", () => {
  const cases: [string, string, string][] = [
    ["DEPC2300", `Package({ name: "Nginx" })`, 'Package name "Nginx" is not a Debian package name: it has upper case letters (Debian package names are lower case).'],
    ["DEPC2300", `Package({ name: "nginx; rm -rf /" })`, `Package name "nginx; rm -rf /" is not a Debian package name: it contains ";" (only lower case letters, digits, '+', '-' and '.' are allowed).`],
    ["DEPC2300", `Package({ name: "-y" })`, 'Package name "-y" is not a Debian package name: it must start with a lower case letter or a digit.'],
    ["DEPC2300", `Package({ name: "x" })`, 'Package name "x" is not a Debian package name: it must have at least two characters.'],
    ["DEPC2300", `Package({ name: "" })`, 'Package name "" is not a Debian package name: it is empty.'],
    ["DEPC2300", `Package({ name: "libc6:i386:x" })`, `Package name "libc6:i386:x" is not a Debian package name: it has more than one ':' (only NAME:ARCH is allowed).`],
    ["DEPC2301", `Package({ name: "nginx", version: "latest" })`, 'Package "nginx": version "latest" is not a Debian version ([epoch:]upstream[-revision]): its upstream version "latest" must start with a digit.'],
    ["DEPC2301", `Package({ name: "nginx", version: "1.22.1-9 " })`, `Package "nginx": version "1.22.1-9 " is not a Debian version ([epoch:]upstream[-revision]): its revision "9 " may only hold letters, digits, '+', '.' and '~'.`],
    ["DEPC2301", `Package({ name: "nginx", version: "x:1.0" })`, 'Package "nginx": version "x:1.0" is not a Debian version ([epoch:]upstream[-revision]): its epoch "x" is not a number.'],
    ["DEPC2301", `Package({ name: "nginx", version: "" })`, 'Package "nginx": version "" is not a Debian version ([epoch:]upstream[-revision]): it is empty (leave version out for any version).'],
    ["DEPC2302", `Package({ name: "nginx", version: 1.22 } as any)`, 'Package "nginx": version must be a string, not 1.22.'],
    ["DEPC2302", `Package({ name: ["nginx"] } as any)`, 'Package ["nginx"]: name must be a string, not a list.'],
  ];
  for (const [code, call, message] of cases) {
    it(`${code}: ${message}`, async () => {
      const out = await printed(call);
      expect(out).toBe(`env/prod.ts:3:3 - error ${code}: ${message}\n\n3   ${call},\n    ${"~".repeat(call.indexOf("("))}\n\n`);
    });
  }

  it("DEPC2005: one package declared twice on a host (whatever the versions)", async () => {
    const result = await compileFiles({
      "env/prod.ts": `${header}export default environment({ hosts: { web1: [\n  Package({ name: "nginx" }),\n  Package({ name: "nginx", version: "1.0" }),\n] } });\n`,
    });
    expect(result.printed).toBe(
      'env/prod.ts:4:3 - error DEPC2005: "nginx" is declared twice on host "web1": as package here and as package elsewhere.\n\n' +
        '4   Package({ name: "nginx", version: "1.0" }),\n    ~~~~~~~\n\n  env/prod.ts:3:3 - first declared here as package\n\n  3   Package({ name: "nginx" }),\n      ~~~~~~~\n\n',
    );
  });
});

describe("the grammars", () => {
  it("accepts what Debian and apt accept", () => {
    for (const name of ["nginx", "python3-django", "libstdc++6", "g++", "0ad", "libc6:i386", "xz-utils", "ca-certificates"]) expect(packageNameProblem(name), name).toBeUndefined();
    for (const version of ["1.22.1-9", "1.22.1-9+deb12u9", "3:3.2.25-0+deb12u3", "2.36-9+deb12u14", "1.0", "1.0~rc1", "1:2.3-4-5", "1.24.0-r6", "20230311"]) {
      expect(packageVersionProblem(version), version).toBeUndefined();
    }
    expect(packageVersionProblem("1:2:3")).toBeUndefined(); // colons in upstream when there is an epoch
    expect(packageVersionProblem("1.0:2")).toBe('its epoch "1.0" is not a number');
    expect(packageVersionProblem("1_0")).toBe(`its upstream version "1_0" may only hold letters, digits, '.', '+', '~'`);
  });
});

describe("lowering", () => {
  it("every Package of a host is one depc_package call at the group's place, each its own step and ledger entry", () => {
    const sources = File({ path: "/etc/apt/sources.list.d/local.list", content: "deb [trusted=yes] http://10.0.0.1/ ./\n" });
    const bundle = compileValue(
      environment({
        hosts: { h: [Package({ name: "nginx" }), sources, Package({ name: "cron", version: "3.0pl1-162", after: [sources] }), File({ path: "/etc/motd", content: "hi\n" })] },
      }),
    ).bundles!.get("h")!;
    const steps = bundle.slice(bundle.indexOf("depc_resources() {"), bundle.indexOf("\n}\n", bundle.indexOf("depc_resources() {")));
    // The group waits for the sources.list (cron needs it), so nginx runs after it too.
    expect(steps.split("\n").filter((l) => !l.startsWith("  #"))).toEqual([
      "depc_resources() {",
      expect.stringMatching(/^  depc_step 1 file '\/etc\/apt\/sources\.list\.d\/local\.list' depc_file /),
      "  depc_collect '2 3' depc_package 'nginx' '' 'cron' '3.0pl1-162'",
      "  depc_step 2 package 'nginx' depc_collected 2 1",
      "  depc_step 3 package 'cron' depc_collected 2 2",
      expect.stringMatching(/^  depc_step 4 file '\/etc\/motd' /),
    ]);
    expect(bundle).toContain("package\tnginx\t-\t-\tdepc_package_remove\tnginx\n");
    expect(bundle).toContain("package\tcron\t-\t-\tdepc_package_remove\tcron\n");
  });
});
