/**
 * The contract between `depc publish` and the agent, both real: a project
 * built and published by the CLI (in process) into a directory store, served
 * over HTTP on loopback (support.ts), and two hosts' agents under dash, each
 * with its own sandbox state directory: web1 waits for its provider db1,
 * db1 applies and reports, then web1 applies. A second publish of a changed
 * model is applied by both; an unchanged publish gives nothing to do.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main, type Io } from "../../compiler/cli.js";
import { parseReport } from "../../tools/publish/layout.js";
import { availableShells } from "../support/shells.js";
import { makeProject } from "../support/project.js";
import { tools } from "./fixture.js";
import { agentConfig, allowedSigners, logEvents, runAgent, storeServer } from "./support.js";

const dash = availableShells().find((s) => s.name === "dash")!;
const project = makeProject({});
afterAll(() => project.cleanup());
const root = join(project.dir, "hosts");

const model = (version: string) => `import { environment, component, key, File } from "depc";
const DB = key<string>("db.address");
const db = component({ name: "db", build: (_s, ctx) => {
  ctx.provide(DB, "db1");
  File({ path: ${JSON.stringify(`${root}/db1/marker`)}, content: "db ${version}\\n" });
} });
const web = component({ name: "web", build: (_s, ctx) => {
  const [address] = ctx.require(DB);
  File({ path: ${JSON.stringify(`${root}/web1/marker`)}, content: \`web ${version} uses \${address}\\n\` });
} });
export default environment({ hosts: { db1: [db], web1: [web] } });
`;

async function depcPublish(): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: Io = { cwd: project.dir, stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), color: false };
  const code = await main(["publish", "env/prod", "--to", "store", "--sign-key", "publisher", "--no-cache"], io);
  return { code, stdout, stderr };
}

describe.skipIf(!tools)("depc publish, then the agents of two hosts (dash)", () => {
  it("applies provider first across hosts, then a new publish on both; an unchanged publish leaves nothing to do", async () => {
    const dir = project.dir;
    expect(spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "publisher", "-f", join(dir, "publisher")]).status).toBe(0);
    writeFileSync(join(dir, "allowed_signers"), allowedSigners(readFileSync(join(dir, "publisher.pub"), "utf8").trim()));
    mkdirSync(join(dir, "store"), { recursive: true });
    const server = await storeServer(join(dir, "store"));
    try {
      const hosts = ["db1", "web1"].map((host) => {
        mkdirSync(join(root, host), { recursive: true });
        const config = join(root, host, "pull.conf");
        const state = join(root, host, "state");
        writeFileSync(config, agentConfig({ environment: "prod", host, store: server.url, signers: join(dir, "allowed_signers"), state }));
        return {
          run: () => runAgent(dash, config),
          events: () => logEvents(readFileSync(join(state, "pull", "log"), "utf8")),
          marker: () => readFileSync(join(root, host, "marker"), "utf8"),
        };
      });
      const [db1, web1] = hosts as [(typeof hosts)[0], (typeof hosts)[0]];

      mkdirSync(join(dir, "env"), { recursive: true });
      writeFileSync(join(dir, "env", "prod.ts"), model("v1"));
      const first = await depcPublish();
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      expect(readFileSync(join(dir, "store", "manifests", "1"), "utf8")).toMatch(/^host web1 [0-9a-f]{64} bundles\/[0-9a-f]{64} [0-9a-f]{64} db1$/m);

      expect((await web1.run()).code).toBe(0);
      expect(web1.events()).toEqual(["serial 1: waiting for db1 (serial 1)"]);
      expect((await db1.run()).code).toBe(0);
      expect(db1.marker()).toBe("db v1\n");
      // The report as depc status reads it (publish's own parser of the contract's text).
      expect(parseReport(readFileSync(join(dir, "store", "reports", "db1"), "utf8"))).toMatchObject({ host: "db1", serial: 1, result: "ok", attempted: 1, message: "applied" });
      expect(parseReport(readFileSync(join(root, "web1", "state", "pull", "report"), "utf8"))).toMatchObject({ host: "web1", serial: 0, digest: undefined, result: "waiting", attempted: 1, message: "waiting for db1 (serial 1)" });
      expect((await web1.run()).code).toBe(0);
      expect(web1.marker()).toBe("web v1 uses db1\n");
      expect(web1.events()).toEqual(["serial 1: waiting for db1 (serial 1)", "serial 1: applied"]);

      writeFileSync(join(dir, "env", "prod.ts"), model("v2"));
      expect((await depcPublish()).code).toBe(0);
      expect(readFileSync(join(dir, "store", "latest"), "utf8")).toBe("2\n");
      expect((await db1.run()).code).toBe(0);
      expect((await web1.run()).code).toBe(0);
      expect([db1.marker(), web1.marker()]).toEqual(["db v2\n", "web v2 uses db1\n"]);

      const unchanged = await depcPublish();
      expect(unchanged.code).toBe(0);
      expect(readFileSync(join(dir, "store", "latest"), "utf8")).toBe("2\n");
      for (const h of hosts) expect(await h.run()).toMatchObject({ code: 0, stdout: "", stderr: "" });
    } finally {
      await server.close();
    }
  });
});
