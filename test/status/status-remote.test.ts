// depc status on the two remote kinds of store, with the fixture's objects
// (test/status/fixture.ts): over HTTP from a real nginx serving the store's
// directory (read-only), and over s3:// from s3rver, which STANDS IN FOR A
// REAL S3 (see test/publish/s3-server.ts). Same exact text as on a
// directory; through the built CLI too (the bundle loads s3-store on demand).
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../tools/publish/store.js";
import { runStatus } from "../../tools/status/command.js";
import { startS3Server, type S3Server } from "../publish/s3-server.js";
import { requireTool } from "../support/shells.js";
import { NOW, expectedText, storeObjects, writeStore } from "./fixture.js";

const repo = join(import.meta.dirname, "..", "..");

async function status(store: string, env: NodeJS.ProcessEnv, s3Endpoint?: string) {
  let stdout = "";
  let stderr = "";
  const code = await runStatus(
    { env: "prod", store, json: false, ...(s3Endpoint !== undefined ? { "s3-endpoint": s3Endpoint } : {}) },
    { cwd: "/", env, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), now: NOW },
  );
  return { code, stdout, stderr };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe.runIf(requireTool("nginx"))("depc status over HTTP (nginx)", () => {
  let dir: string;
  let nginx: ChildProcess;
  let base: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "depc-status-nginx-"));
    // nginx's workers run as nobody: the served files must be readable by all.
    chmodSync(dir, 0o755);
    writeStore(join(dir, "www", "prod"));
    mkdirSync(join(dir, "logs"));
    const port = await freePort();
    writeFileSync(
      join(dir, "nginx.conf"),
      [
        "worker_processes 1;",
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/logs/error.log;`,
        "events { worker_connections 64; }",
        "http {",
        "  access_log off;",
        `  client_body_temp_path ${dir}/tmp;`,
        `  server { listen 127.0.0.1:${port}; root ${dir}/www; }`,
        "}",
        "",
      ].join("\n"),
    );
    nginx = spawn("nginx", ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"], { stdio: "ignore" });
    base = `http://127.0.0.1:${port}/prod/`;
    for (let i = 0; ; i++) {
      const ok = await fetch(`${base}latest`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 100) throw new Error(`nginx did not serve ${base}latest (see ${dir}/logs/error.log)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(() => {
    nginx?.kill("SIGQUIT");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("prints the same table as on the directory; a missing report is nginx's 404", async () => {
    const r = await status(base, {});
    expect(r).toEqual({ code: 1, stdout: expectedText(base), stderr: "" });
  });

  it("without the trailing slash too, and through the CLI", async () => {
    const url = base.slice(0, -1);
    expect((await status(url, {})).stdout).toBe(expectedText(url));
    const cli = spawnSync(process.execPath, [join(repo, "bin", "depc.js"), "status", "prod", "--store", url], { encoding: "utf8", timeout: 60_000 });
    expect(cli.stderr).toBe("");
    expect(cli.status).toBe(1);
    expect(cli.stdout.endsWith("\n2 of 5 hosts at serial 7; behind: web2, cache, lb1\n")).toBe(true);
  });

  it("a URL where nothing was published", async () => {
    const url = base.replace("/prod/", "/staging/");
    expect(await status(url, {})).toEqual({ code: 1, stdout: "", stderr: `depc: status: the store ${url} has no latest: nothing was published there\n` });
  });
});

describe("depc status over s3:// (s3rver standing in for S3)", () => {
  let s3: S3Server;
  beforeAll(async () => {
    s3 = await startS3Server(["depc"]);
    const store = await openStore("s3://depc/envs/prod", { env: s3.env });
    for (const [path, text] of Object.entries(storeObjects())) await store.put(path, Buffer.from(text, "latin1"));
  });
  afterAll(async () => {
    await s3?.close();
  });

  it("prints the same table as on the directory", async () => {
    const r = await status("s3://depc/envs/prod", s3.env);
    expect(r).toEqual({ code: 1, stdout: expectedText("s3://depc/envs/prod"), stderr: "" });
  });

  it("through the CLI, --s3-endpoint naming the server", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" };
    delete env.AWS_ENDPOINT_URL;
    delete env.AWS_ENDPOINT_URL_S3;
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    // Not spawnSync: the server runs in this process and must answer meanwhile.
    const depc = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(process.execPath, [join(repo, "bin", "depc.js"), "status", "prod", ...args], { encoding: "utf8", timeout: 60_000, env }, (_e, stdout, stderr) =>
          resolve({ status: child.exitCode, stdout, stderr }),
        );
      });
    const r = await depc("--store", "s3://depc/envs/prod", "--s3-endpoint", s3.endpoint);
    // Nothing else on stderr (the SDK's own warnings included).
    expect(r.stderr).toBe("");
    expect(r.status).toBe(1);
    expect(r.stdout.endsWith("\n2 of 5 hosts at serial 7; behind: web2, cache, lb1\n")).toBe(true);
    const missing = await depc("--store", "s3://nobucket/prod", "--s3-endpoint", s3.endpoint);
    expect(missing.stderr).toBe("depc: status: cannot read latest in the store s3://nobucket/prod: NoSuchBucket (HTTP 404: the bucket does not exist)\n");
    expect(missing.status).toBe(1);
  });
});
