/**
 * Logrotate, compiler side: one test per diagnostic with the exact text a
 * user sees and the entry written for logrotate. On the host (the real
 * logrotate): test/runtime/logrotate.test.ts.
 */
import { describe, expect, it } from "vitest";
import { environment, Logrotate } from "../../model/index.js";
import { compileValue } from "../../test/support/inmemory.js";
import { compileFiles } from "../../test/support/project.js";

const header = `import { environment, Logrotate } from "depc";\n`;

async function printed(call: string): Promise<string> {
  const result = await compileFiles({ "env/prod.ts": `${header}export default environment({ hosts: { web1: [\n  ${call},\n] } });\n` });
  expect(result.ok).toBe(false);
  return result.printed;
}

describe("Logrotate diagnostics", () => {
  const cases: [string, string, string][] = [
    ["DEPC2440", `Logrotate({ name: "my app", paths: ["/var/log/app.log"] })`, 'Logrotate name "my app" cannot be used: it must match [A-Za-z0-9][A-Za-z0-9._-]* (it labels the entry in /etc/logrotate.d).'],
    ["DEPC2441", `Logrotate({ name: "app", paths: ["/var/log/{a,b}.log"] })`, 'Logrotate "app": path "/var/log/{a,b}.log" contains "{", which a logrotate config cannot hold in a path.'],
    ["DEPC2441", `Logrotate({ name: "app", paths: ['/var/log/"x".log'] })`, 'Logrotate "app": path "/var/log/\\"x\\".log" contains "\\"", which a logrotate config cannot hold in a path.'],
    ["DEPC2442", `Logrotate({ name: "app", paths: ["/var/log/app.log"], frequency: "hourly" as any })`, 'Logrotate "app": frequency must be one of daily, weekly, monthly, not "hourly".'],
    ["DEPC2442", `Logrotate({ name: "app", paths: ["/var/log/app.log"], rotate: -1 })`, 'Logrotate "app": rotate must be a whole number from 0 to 1000, not -1.'],
    ["DEPC2442", `Logrotate({ name: "app", paths: ["/var/log/app.log"], su: ["app"] as any })`, 'Logrotate "app": su must be [user, group], two names, not an array.'],
    ["DEPC2442", `Logrotate({ name: "app", paths: [] as any })`, 'Logrotate "app": paths must be a non-empty list of absolute paths, not an array.'],
    ["DEPC2443", `Logrotate({ name: "app", paths: ["/var/log/app.log"], postrotate: "kill -HUP 1\\n  endscript\\nrm -rf /" })`, 'Logrotate "app": postrotate has a line that is only "endscript", which would end the script early for logrotate.'],
    ["DEPC2001", `Logrotate({ name: "app", paths: ["var/log/app.log"] })`, 'Logrotate path must be absolute: "var/log/app.log"'],
  ];
  it.each(cases)("%s: %s", async (code, call, message) => {
    expect(await printed(call)).toContain(`env/prod.ts:3:3 - error ${code}: ${message}\n`);
  });
});

describe("Logrotate lowering", () => {
  it("one call for the host, each entry its name and text; defaults written out (weekly, rotate 4, missingok, notifempty)", () => {
    const bundle = compileValue(environment({ hosts: { h: [Logrotate({ name: "a", paths: ["/var/log/a.log"] }), Logrotate({ name: "b", paths: ["/var/log/b b.log"], compress: true, delaycompress: true })] } })).bundles!.get("h")!;
    expect(bundle).toContain("  depc_collect '1 2' depc_logrotate 'a' depc_content_1 'b' depc_content_1_2\n");
    expect(bundle).toContain("depc_content_1() {\n  cat <<'DEPC_EOF'\n/var/log/a.log {\n    weekly\n    rotate 4\n    missingok\n    notifempty\n}\nDEPC_EOF\n}\n");
    expect(bundle).toContain('depc_content_1_2() {\n  cat <<\'DEPC_EOF\'\n"/var/log/b b.log" {\n    weekly\n    rotate 4\n    missingok\n    notifempty\n    compress\n    delaycompress\n}\nDEPC_EOF\n}\n');
    expect(bundle).toContain("logrotate\ta\t-\t-\tdepc_logrotate_remove\ta\n");
  });
});
