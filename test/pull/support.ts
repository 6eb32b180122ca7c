/**
 * Test support for the pull agent: a store in the contract's layout written
 * by the test itself (signed with a throwaway key by the real
 * `ssh-keygen -Y sign`, encrypted by the real `age -R`), a small HTTP server
 * that serves the store directory and takes PUT under `reports/` (it stands
 * in for nginx here; the test bed's pull tests use nginx), and an
 * asynchronous runner (the server answers while the agent runs, and a run can
 * be killed with -9).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import type { Shell } from "../support/shells.js";

export const AGENT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "stdlib", "pull", "pull-agent.sh");

export const sha256 = (bytes: string | Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** An ed25519 key pair made by ssh-keygen: `path` the private key, `pub` the public key line. */
export function sshKey(dir: string, name: string): { path: string; pub: string } {
  const path = join(dir, name);
  if (!existsSync(path)) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path]);
  return { path, pub: readFileSync(`${path}.pub`, "utf8").trim() };
}

/** The allowed_signers line of the contract for a publisher's public key. */
export const allowedSigners = (pub: string): string => `depc-publisher namespaces="depc-manifest" ${pub}\n`;

export interface StoreHost {
  readonly name: string;
  readonly bundle: string;
  /** Providers (the build manifest's `after`). @default none */
  readonly after?: readonly string[];
  /** Encrypt to this ssh public key file (`age -R`): the object is `bundles/<hex>.age`. */
  readonly encryptTo?: string;
}

export interface Publication {
  readonly env: string;
  readonly serial: number;
  readonly hosts: readonly StoreHost[];
  /** Epoch seconds. @default now + 7 days */
  readonly expires?: number;
  /** The serial written into the manifest text. @default serial */
  readonly textSerial?: number;
  /** Write `latest` (last, as publish does). @default true */
  readonly latest?: boolean;
}

/** Writes one publication into the store directory `root`, signed with `key`; returns the manifest text. */
export function publish(root: string, key: string, pub: Publication): string {
  for (const d of ["bundles", "manifests", "reports"]) mkdirSync(join(root, d), { recursive: true });
  const now = Math.floor(Date.now() / 1000);
  const lines = ["depc-manifest 1", `environment ${pub.env}`, `serial ${pub.textSerial ?? pub.serial}`, `published ${now}`, `expires ${pub.expires ?? now + 7 * 86400}`];
  for (const h of pub.hosts) {
    const digest = sha256(h.bundle);
    let object: string;
    let objectSha: string;
    if (h.encryptTo === undefined) {
      writeFileSync(join(root, "bundles", digest), h.bundle);
      object = `bundles/${digest}`;
      objectSha = digest;
    } else {
      const cipher = execFileSync("age", ["-R", h.encryptTo], { input: h.bundle });
      objectSha = sha256(cipher);
      writeFileSync(join(root, "bundles", `${objectSha}.age`), cipher);
      object = `bundles/${objectSha}.age`;
    }
    lines.push(`host ${h.name} ${digest} ${object} ${objectSha} ${h.after === undefined || h.after.length === 0 ? "-" : h.after.join(",")}`);
  }
  const text = `${lines.join("\n")}\n`;
  const manifest = join(root, "manifests", String(pub.serial));
  writeFileSync(manifest, text);
  execFileSync("ssh-keygen", ["-q", "-Y", "sign", "-f", key, "-n", "depc-manifest", manifest], { stdio: ["ignore", "ignore", "pipe"] });
  if (pub.latest !== false) writeFileSync(join(root, "latest"), `${pub.serial}\n`);
  return text;
}

export interface StoreServer {
  readonly url: string;
  /** Requests by method and path, e.g. `GET /latest`. */
  readonly requests: string[];
  /** Delay (ms) before the second half of every `bundles/` body: a slow download to kill the agent in. */
  stallMs: number;
  /** Refuse every PUT (403), like a store that takes no reports. */
  readOnly: boolean;
  close(): Promise<void>;
}

/** Serves `root` over HTTP on loopback; PUT is accepted under `reports/` only (like a WebDAV location). */
export async function storeServer(root: string): Promise<StoreServer> {
  const requests: string[] = [];
  const state = { stallMs: 0, readOnly: false };
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? "/").split("?")[0]!));
    requests.push(`${req.method} ${path}`);
    const file = join(root, path);
    if (req.method === "PUT") {
      if (state.readOnly || !/^\/reports\/[A-Za-z0-9][A-Za-z0-9._-]*$/.test(path)) {
        res.writeHead(state.readOnly ? 403 : 405).end();
        return;
      }
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        // As nginx's create_full_put_path: publish does not make reports/.
        try {
          mkdirSync(join(root, "reports"), { recursive: true });
          writeFileSync(file, Buffer.concat(chunks));
          res.writeHead(201).end();
        } catch {
          res.writeHead(500).end();
        }
      });
      return;
    }
    if (req.method !== "GET" || !existsSync(file) || path.endsWith("/")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(body.length) });
    if (state.stallMs === 0 || !path.startsWith("/bundles/")) {
      res.end(body);
      return;
    }
    const half = Math.floor(body.length / 2);
    res.write(body.subarray(0, half));
    const timer = setTimeout(() => res.end(body.subarray(half)), state.stallMs);
    res.on("close", () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    get stallMs() {
      return state.stallMs;
    },
    set stallMs(v: number) {
      state.stallMs = v;
    },
    get readOnly() {
      return state.readOnly;
    },
    set readOnly(v: boolean) {
      state.readOnly = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface AgentRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `SHELL pull-agent CONFIG` asynchronously; its process group is killed with -9 after `killAfterMs`. */
export function runAgent(shell: Shell, config: string, options: { path?: string; killAfterMs?: number; env?: Record<string, string> } = {}): Promise<AgentRun> {
  const [cmd, ...lead] = shell.argv as [string, ...string[]];
  const env = { ...process.env, ...options.env, ...shell.env, ...(options.path !== undefined ? { PATH: options.path } : {}) };
  const child: ChildProcess = spawn(cmd, [...lead, AGENT, config], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const kill = () => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  };
  const timer = options.killAfterMs === undefined ? undefined : setTimeout(kill, options.killAfterMs);
  const guard = setTimeout(kill, 120_000);
  return new Promise((resolve) =>
    child.on("close", async (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      clearTimeout(guard);
      kill(); // children that outlived a killed agent (curl, the bundle) go too, as systemd would stop the unit's cgroup
      await groupGone(child.pid!);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

/**
 * Waits (at most 10 s) until no process of process group `pgid` is left, not
 * even a zombie: a killed bundle is reparented to this machine's pid 1, which
 * reaps late, and until then its pid still answers `kill -0` with the same
 * start time, so the next run would find the bundle's lock held (exit 3). A
 * host's init (systemd) reaps at once.
 */
async function groupGone(pgid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  const members = () =>
    readdirSync("/proc").filter((p) => {
      if (!/^\d+$/.test(p)) return false;
      try {
        return readFileSync(`/proc/${p}/stat`, "utf8").replace(/^.*\) /s, "").split(" ")[2] === String(pgid);
      } catch {
        return false;
      }
    });
  while (members().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** The agent's config text (`key value` lines). */
export function agentConfig(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([k, v]) => `${k} ${v}\n`)
    .join("");
}

/** Log lines without their leading ISO time. */
export function logEvents(logText: string): string[] {
  return logText
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /.test(l)) throw new Error(`log line without its ISO time: ${l}`);
      return l.slice(21);
    });
}
