// The test bed's pull store (test/testbed/http-store.ts): Debian's real nginx on this
// machine, serving a directory on the bridge address to real test hosts, read-only
// except WebDAV PUT of reports. What pulling hosts and `depc status` rely on:
// a host reads the store's files byte for byte, a report PUT lands as a file, and
// nothing else can be written or deleted. Needs root and nginx (test/testbed/README.md):
// skipped with a message elsewhere, a failure in CI.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpStore, STORE_SERVER_BLOCK, type HttpStore } from "../testbed/http-store.js";
import { repoRoot } from "../support/project.js";
import { Testbed, testbedPrerequisites } from "../testbed/index.js";

const pre = testbedPrerequisites({ systemd: false });
const haveNginx = existsSync("/usr/sbin/nginx");
const missing = [...pre.missing, ...(haveNginx ? [] : ["nginx (apt-get install -y nginx)"])];
if (missing.length > 0) {
  if (process.env.CI === "true") throw new Error(`pull store test prerequisites missing in CI:\n  ${missing.join("\n  ")}\n${pre.howTo}`);
  console.warn(`[pull-store e2e] skipping: ${missing.join("; ")}.\n${pre.howTo}`);
}

let bed: Testbed;
let store: HttpStore;
let root: string;

beforeAll(async () => {
  if (missing.length > 0) return;
  bed = await Testbed.start({ hosts: [{ name: "h1" }] });
  root = mkdtempSync(join(tmpdir(), "depc-pull-store-test-"));
  mkdirSync(join(root, "bundles"));
  writeFileSync(join(root, "latest"), "7\n");
  // Every byte value: a bundle is bytes, not text.
  writeFileSync(join(root, "bundles", "abc"), Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
  store = await startHttpStore(root);
}, 600_000);

afterAll(async () => {
  await store?.stop();
  await bed?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
}, 120_000);

/** HTTP status of a request from this machine (curl), with an optional body file. */
function status(method: string, path: string, body?: string): number {
  const args = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method];
  if (body !== undefined) args.push("--data-binary", body);
  return Number(execFileSync("curl", [...args, store.url + path]).toString());
}

describe.skipIf(missing.length > 0)("the test bed's nginx store", () => {
  it("serves on the bridge address: a test host reads files byte for byte", async () => {
    expect(store.url).toMatch(/^http:\/\/10\.213\.77\.1:\d+\/$/);
    const latest = await bed.exec("h1", `busybox wget -q -O - ${store.url}latest`);
    expect(latest.code, latest.stderr).toBe(0);
    expect(latest.stdout).toBe("7\n");
    const bundle = await bed.exec("h1", `busybox wget -q -O - ${store.url}bundles/abc | sha256sum`);
    expect(bundle.stdout.split(" ")[0]).toBe(execFileSync("sha256sum", [join(root, "bundles", "abc")]).toString().split(" ")[0]);
    expect((await bed.exec("h1", `busybox wget -q -O - ${store.url}bundles/nope`)).code).not.toBe(0);
  });

  it("a report PUT creates reports/<host> (reports/ need not exist) and a second PUT replaces it", () => {
    expect(existsSync(join(root, "reports"))).toBe(false);
    expect(status("PUT", "reports/h1", "depc-report 1\nserial 1\n")).toBe(201);
    expect(readFileSync(join(root, "reports", "h1"), "utf8")).toBe("depc-report 1\nserial 1\n");
    expect(status("PUT", "reports/h1", "depc-report 1\nserial 2\n")).toBe(204);
    expect(readFileSync(join(root, "reports", "h1"), "utf8")).toBe("depc-report 1\nserial 2\n");
    expect(status("GET", "reports/h1")).toBe(200);
  });

  it("everything else is read-only: PUT, DELETE, POST, MKCOL outside reports/ and DELETE of a report are refused", () => {
    for (const [method, path] of [
      ["PUT", "latest"],
      ["PUT", "bundles/abc"],
      ["PUT", "manifests/8"],
      ["POST", "latest"],
      ["DELETE", "latest"],
      ["DELETE", "reports/h1"],
      ["MKCOL", "reports/dir/"],
      ["PUT", "reports/../latest"],
    ] as const) {
      expect(status(method, path, method === "PUT" || method === "POST" ? "x" : undefined), `${method} ${path}`).toBe(403);
    }
    expect(readFileSync(join(root, "latest"), "utf8")).toBe("7\n");
    expect(existsSync(join(root, "manifests"))).toBe(false);
    expect(existsSync(join(root, "reports", "h1"))).toBe(true);
    expect(store.accessLog()).toContain("PUT /latest 403\n");
  });

  it("a report larger than 4 KiB is refused (413), the old one stays", () => {
    expect(status("PUT", "reports/h1", "x".repeat(5000))).toBe(413);
    expect(readFileSync(join(root, "reports", "h1"), "utf8")).toBe("depc-report 1\nserial 2\n");
  });

  it("stop() ends nginx (master and worker) and is idempotent", async () => {
    const other = await startHttpStore(root);
    const workers = spawnSync("pgrep", ["-P", String(other.pid)]).stdout.toString().trim().split("\n").filter(Boolean);
    expect(workers.length).toBe(1);
    await other.stop();
    await other.stop();
    for (const pid of [other.pid, ...workers.map(Number)]) expect(existsSync(`/proc/${pid}`), `pid ${pid}`).toBe(false);
    expect(existsSync(other.prefix)).toBe(false);
  });

  for (const end of ["killed with SIGKILL", "exiting without stop()"] as const) {
    it(`a test process ${end} leaves no nginx behind`, async () => {
      // A separate process starts a store and ends; its store's guard sees the pipe close and stops nginx.
      const script = join(root, "owner.mts");
      writeFileSync(script, `import { startHttpStore } from ${JSON.stringify(join(repoRoot, "test", "testbed", "http-store.ts"))};\nconst s = await startHttpStore(${JSON.stringify(root)});\nconsole.log("pid " + s.pid);\n${end === "killed with SIGKILL" ? "setInterval(() => {}, 1000);" : "setTimeout(() => process.exit(0), 200);"}\n`);
      const owner = spawn(join(repoRoot, "node_modules", ".bin", "vite-node"), [script], { stdio: ["ignore", "pipe", "pipe"] });
      const pid = await new Promise<number>((resolve, reject) => {
        let out = "";
        owner.stdout!.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /pid (\d+)\n/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        owner.on("exit", (code) => reject(new Error(`the owner exited (${code}) before starting nginx: ${out}`)));
      });
      expect(existsSync(`/proc/${pid}`)).toBe(true);
      const workers = spawnSync("pgrep", ["-P", String(pid)]).stdout.toString().trim().split("\n").filter(Boolean).map(Number);
      // vite-node runs the script in its own process: that process is the test process here.
      if (end === "killed with SIGKILL") process.kill(owner.pid!, "SIGKILL");
      const gone = async () => {
        for (let i = 0; i < 100; i++) {
          if ([pid, ...workers].every((p) => !existsSync(`/proc/${p}`))) return true;
          await new Promise((r) => setTimeout(r, 100));
        }
        return false;
      };
      expect(await gone(), `nginx ${pid} (workers ${workers.join(",")}) still running`).toBe(true);
    });
  }
});

describe("docs/pull.md, \"A tested setup: nginx as the store\"", () => {
  it("shows the server block the tests run (with an example listen and root)", () => {
    const doc = readFileSync(join(repoRoot, "docs", "pull.md"), "utf8");
    const section = doc.slice(doc.indexOf("## A tested setup: nginx as the store\n"));
    const block = /```nginx\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBeDefined();
    expect(block!.replace("    listen 80;\n", "    listen @LISTEN@;\n").replace("    root /srv/depc/prod;\n", "    root @ROOT@;\n")).toBe(STORE_SERVER_BLOCK);
  });
});
