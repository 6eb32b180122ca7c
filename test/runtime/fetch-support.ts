/**
 * Shared by the Download and Extract runtime tests: an HTTP server on
 * loopback in the test process, bundles run asynchronously (so the server
 * can answer while a bundle runs, and a run can be killed with -9), and PATH
 * directories that leave exactly one download tool.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { environment } from "../../model/index.js";
import type { Placeable } from "../../model/component.js";
import { compileValue } from "../support/inmemory.js";
import { which, type Shell } from "../support/shells.js";

export interface Served {
  readonly body: Uint8Array;
  /** Milliseconds to wait between two halves of the body (a slow download). */
  readonly stallMs?: number;
  readonly status?: number;
}

export interface FileServer {
  readonly base: string;
  /** Requests per path. */
  readonly hits: Map<string, number>;
  serve(path: string, served: Served): void;
  close(): Promise<void>;
}

export async function fileServer(): Promise<FileServer> {
  const routes = new Map<string, Served>();
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const served = routes.get(path);
    if (served === undefined) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
      return;
    }
    res.writeHead(served.status ?? 200, { "content-type": "application/octet-stream", "content-length": String(served.body.length) });
    if (served.stallMs === undefined) {
      res.end(served.body);
      return;
    }
    const half = Math.floor(served.body.length / 2);
    res.write(served.body.subarray(0, half));
    const timer = setTimeout(() => res.end(served.body.subarray(half)), served.stallMs);
    res.on("close", () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    hits,
    serve: (path, served) => routes.set(path, served),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A PATH directory with every program of /usr/bin and /usr/sbin but curl and
 * wget, plus `only` (one of them) when given: that tool is the host's only
 * download tool.
 */
export function toolPath(dir: string, only?: "curl" | "wget"): string {
  const path = join(dir, `path-${only ?? "none"}`);
  if (existsSync(path)) return path;
  mkdirSync(path, { recursive: true });
  for (const bin of ["/usr/bin", "/usr/sbin"]) {
    for (const name of readdirSync(bin)) {
      if (name === "curl" || name === "wget" || existsSync(join(path, name))) continue;
      symlinkSync(join(bin, name), join(path, name));
    }
  }
  if (only !== undefined) symlinkSync(which(only)!, join(path, only));
  return path;
}

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A host: its state dir and TMPDIR, and runs of bundles built from a model. */
export function host(dir: string, shell: Shell, path: string | undefined) {
  const state = join(dir, "state");
  const tmp = join(dir, "tmp");
  mkdirSync(tmp, { recursive: true });
  let n = 0;
  return {
    state,
    tmp,
    /** Builds `items` for host h and runs the bundle; killed with -9 after `killAfterMs`. */
    run(items: readonly Placeable[], args: readonly string[] = [], killAfterMs?: number): Promise<Run> {
      const bundle = join(dir, `b${++n}.sh`);
      writeFileSync(bundle, compileValue(environment({ hosts: { h: [...items] } }), "prod").bundles!.get("h")!);
      const [cmd, ...lead] = shell.argv as [string, ...string[]];
      const env = { ...process.env, TMPDIR: tmp, DEPC_STATE_DIR: state, ...shell.env, ...(path ? { PATH: path } : {}) };
      const child: ChildProcess = spawn(cmd, [...lead, bundle, ...args], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
      const timer = killAfterMs === undefined ? undefined : setTimeout(() => killGroup(child), killAfterMs);
      return new Promise((resolve) =>
        child.on("close", (code) => {
          if (timer !== undefined) clearTimeout(timer);
          killGroup(child);
          resolve({ code, stdout, stderr });
        }),
      );
    },
  };
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    // gone
  }
}

export const lines = (stdout: string) => stdout.split("\n").filter((l) => /^(ok|changed|would change|failed|removed|would remove|left) /.test(l));
