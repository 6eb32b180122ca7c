/**
 * Service on a host without systemd, under every shell of the matrix: the
 * run fails at the service with a message that names the host, in apply and
 * in --check, and writes no unit file. (This machine's sandbox has no
 * /run/systemd/system; the behaviour with systemd is test/e2e/service.test.ts,
 * on real systemd.)
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { environment, File, Service } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { Sandbox } from "../support/sandbox.js";
import { availableShells } from "../support/shells.js";

const why = Sandbox.unavailable();
if (why !== undefined) {
  if (process.env.CI === "true") throw new Error(`the Service runtime test ${why}`);
  console.warn(`[service runtime] skipping: the sandbox ${why}`);
}

const dir = mkdtempSync(join(tmpdir(), "depc-service-rt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(why !== undefined).each(availableShells())("Service without systemd, under $name", (shell) => {
  it("fails naming the host, in apply and --check; earlier resources still converge, nothing is written to /etc/systemd", () => {
    const conf = File({ path: "/etc/depc-nosd.conf", content: "a\n" });
    const bundle = compileValue(environment({ hosts: { "app-7": [conf, Service({ name: "web", execStart: ["/bin/true"], whenChanged: [conf] })] } }), "nosd").bundles!.get("app-7")!;
    const path = join(dir, `${shell.name.replace(/\W+/g, "-")}.sh`);
    writeFileSync(path, bundle);
    const sandbox = new Sandbox();
    try {
      const message = "host app-7 does not run systemd (there is no /run/systemd/system), so it cannot run service web.service";
      const check = sandbox.run(shell, path, ["--check"]);
      expect(check.status).toBe(1);
      expect(check.stdout).toContain(`failed        service web.service: ${message}\n`);
      expect(check.stdout).toContain("depc: nosd/app-7 (check): 2 resources: 1 would change, 0 ok, 1 failed\n");

      const apply = sandbox.run(shell, path);
      expect(apply.status).toBe(1);
      expect(apply.stdout).toBe(`changed       file /etc/depc-nosd.conf (created)\nfailed        service web.service: ${message}\ndepc: nosd/app-7: 2 resources: 1 changed, 0 ok, 1 failed\n`);
      expect(apply.stderr).toContain(`depc: nosd/app-7: service web.service: ${message}\n`);
      expect(existsSync(join(sandbox.upper, "etc/depc-nosd.conf"))).toBe(true);
      expect(existsSync(join(sandbox.upper, "etc/systemd"))).toBe(false);
    } finally {
      sandbox.remove();
    }
  });
});
