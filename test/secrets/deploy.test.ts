// End-to-end over ssh on real test-bed hosts (root needed; see
// test/testbed/README.md): `depc deploy` puts secret files in place with
// their owner and mode, and after a change of the secrets `depc plan`, its
// --json, a second deploy and the hosts' state directories hold no value.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/project.js";
import { Testbed, testbedPrerequisites } from "../testbed/index.js";
import { makeKey, secretProject, tempDir, type Key } from "./support.js";

const pre = testbedPrerequisites({ systemd: false });
if (!pre.ok) {
  if (process.env.CI === "true") throw new Error(`test bed prerequisites missing in CI:\n  ${pre.missing.join("\n  ")}\n${pre.howTo}`);
  console.warn(`[secrets e2e] skipping: ${pre.missing.join("; ")}.\n${pre.howTo}`);
}

const OLD = { db: { password: "e2e-OLD-pw-31337" }, "api.token": "e2e-OLD-token-4242" };
const NEW = { db: { password: "e2e-NEW-pw-77777" }, "api.token": "e2e-NEW-token-9999" };
const values = (v: typeof OLD) => [v.db.password, v["api.token"]];

const ENV = `import { environment, Directory, File, secret, secretText } from "depc";
export default environment({
  hosts: {
    app: [
      Directory({ path: "/etc/app" }),
      File({ path: "/etc/app/db.ini", owner: "nobody", group: "nogroup", mode: 0o640, content: secretText\`[db]\\npassword = \${secret("db.password")}\\n\` }),
    ],
    mon: [Directory({ path: "/srv/mon" }), File({ path: "/srv/mon/token", content: secret("api.token") })],
  },
});
`;

describe.skipIf(!pre.ok)("secrets over ssh (real hosts)", () => {
  let bed: Testbed;
  let key: Key;
  let project: Awaited<ReturnType<typeof secretProject>>;

  const depc = (command: string) =>
    new Promise<{ code: number | null; out: string; json: string }>((resolve) => {
      const json = join(project.dir, `${command}-${Date.now()}.json`);
      const child = spawn(process.execPath, [join(repoRoot, "bin", "depc.js"), command, "env/prod", "-F", bed.sshConfigFile, "--json", json], {
        cwd: project.dir,
        env: { ...process.env, NO_COLOR: "1", DEPC_AGE_IDENTITY: key.file },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (out += c));
      child.on("close", (code) => resolve({ code, out, json: existsSync(json) ? readFileSync(json, "utf8") : "" }));
    });
  const sh = async (host: string, command: string) => {
    const r = await bed.exec(host, command);
    if (r.code !== 0) throw new Error(`${host}: ${command}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  /** Everything the state directory holds except the kept bundles (which are the bundles). */
  const stateText = (host: string) => sh(host, "find /var/lib/depc -type f ! -name '*.sh' -exec cat {} + 2>/dev/null; true");

  beforeAll(async () => {
    bed = await Testbed.start({ hosts: [{ name: "app" }, { name: "mon", userland: "busybox" }] });
    const dir = tempDir("e2e");
    key = await makeKey(dir);
    project = await secretProject({ "env/prod.ts": ENV }, OLD, [key.recipient]);
  }, 600_000);

  afterAll(async () => {
    await bed?.stop();
  }, 120_000);

  it("deploys secret files with owner and mode; plan after a change shows fingerprints and no value anywhere", async () => {
    const first = await depc("deploy");
    expect(first.code, first.out).toBe(0);
    expect(await sh("app", "stat -c '%a %U %G' /etc/app/db.ini")).toBe("640 nobody nogroup\n");
    expect(await sh("app", "cat /etc/app/db.ini")).toBe("[db]\npassword = e2e-OLD-pw-31337\n");
    expect(await sh("mon", "stat -c '%a' /srv/mon/token")).toBe("600\n");
    expect(await sh("mon", "cat /srv/mon/token")).toBe("e2e-OLD-token-4242");
    for (const v of values(OLD)) expect(first.out + first.json).not.toContain(v);

    await project.writeSecrets(NEW);
    const plan = await depc("plan");
    expect(plan.code, plan.out).toBe(2);
    expect(plan.out).toMatch(/Secret content changed \(fingerprint [0-9a-f]{12} -> [0-9a-f]{12}\)/);
    const second = await depc("deploy");
    expect(second.code, second.out).toBe(0);
    expect(await sh("mon", "cat /srv/mon/token")).toBe("e2e-NEW-token-9999");
    expect(await sh("app", "stat -c '%a %U %G' /etc/app/db.ini")).toBe("640 nobody nogroup\n");

    const seen = [plan.out, plan.json, second.out, second.json, await stateText("app"), await stateText("mon")].join("\n");
    for (const v of [...values(OLD), ...values(NEW)]) expect(seen).not.toContain(v);
    // The hosts keep no plaintext copy in their temp directories either.
    for (const host of ["app", "mon"]) {
      expect(await sh(host, "grep -rl e2e- /tmp /var/tmp 2>/dev/null; true")).toBe("");
    }
  });
});
