// Where a published environment lives: a directory (what a static web
// server, a CDN or rsync serves), a read-only http(s):// URL (for `depc
// status`), or an S3-compatible bucket (s3://bucket/prefix, in s3-store.ts,
// loaded only when asked for: the S3 library stays off the CLI's start-up).
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";

/** Paths are relative to the store's root, `/`-separated, as in layout.ts. */
export interface Store {
  /** For messages: the store as the user gave it (a path, a URL). */
  readonly describe: string;
  /** The object's bytes, or undefined when the store has none at `path`. */
  get(path: string): Promise<Uint8Array | undefined>;
  /** Writes the whole object; a reader sees the old bytes or the new, never part. */
  put(path: string, bytes: Uint8Array): Promise<void>;
  has(path: string): Promise<boolean>;
}

export interface StoreOptions {
  /** Relative directory stores are resolved against this. @default process.cwd() */
  readonly cwd?: string;
  /** Credentials and endpoints (S3) come from here. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** A store could not be opened or did not answer; the message is one line, without `depc: `. */
export class StoreError extends Error {
  override readonly name = "StoreError";
}

export type StoreFactory = (spec: string, options: StoreOptions) => Store | Promise<Store>;

const schemes = new Map<string, StoreFactory>();

/**
 * Adds a store kind for `<scheme>://…` specs. s3-store.ts calls
 * `registerStoreScheme("s3", …)` when it is imported (openStore imports it
 * on the first s3:// spec).
 */
export function registerStoreScheme(scheme: string, factory: StoreFactory): void {
  schemes.set(scheme.toLowerCase(), factory);
}

/** Modules providing a scheme, imported on first use. The specifier is a variable: the file is optional at type-check time. */
const SCHEME_MODULES: Readonly<Record<string, string>> = { s3: "./s3-store.js" };

/**
 * Imports a module of this folder by a name not known at type-check time.
 * In the CLI bundle (dist/cli/, see tools/bundle/bundle-cli.mjs) this code is
 * not in tools/publish/: the module is tsc's copy in dist/tools/publish/. That
 * copy has its own store.js, so its errors are recognised by name
 * ({@link isStoreError}), and its factory is taken from its exports.
 */
async function importBeside(file: string): Promise<Record<string, unknown>> {
  const inBundle = /\/dist\/cli\/[^/]*$/.test(new URL(import.meta.url).pathname);
  const specifier = inBundle ? new URL(`../tools/publish/${file}`, import.meta.url).href : `./${file}`;
  return (await import(specifier)) as Record<string, unknown>;
}

/** A StoreError, also one thrown by another copy of this module (see importBeside). */
export function isStoreError(error: unknown): error is StoreError {
  return error instanceof Error && error.name === "StoreError";
}

/** A path inside a store: relative, `/`-separated, no `.`/`..`/empty segments. */
export function checkStorePath(path: string): void {
  if (path === "" || path.startsWith("/") || path.split("/").some((s) => s === "" || s === "." || s === "..") || /[\x00-\x1f\x7f\\]/.test(path)) {
    throw new StoreError(`${JSON.stringify(path)} is not a path inside a store`);
  }
}

/** Opens the store `spec` names: `s3://bucket/prefix`, `https://host/path/` (read-only), or a directory. */
export async function openStore(spec: string, options: StoreOptions = {}): Promise<Store> {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(spec)?.[1]?.toLowerCase();
  if (scheme === undefined) return new DirectoryStore(spec, resolve(options.cwd ?? process.cwd(), spec));
  if (scheme === "http" || scheme === "https") return new HttpStore(spec);
  if (scheme === "file") return new DirectoryStore(spec, decodeURIComponent(new URL(spec).pathname));
  if (!schemes.has(scheme) && SCHEME_MODULES[scheme] !== undefined) {
    let loaded: Record<string, unknown>;
    try {
      loaded = await importBeside(SCHEME_MODULES[scheme]!);
    } catch (error) {
      throw new StoreError(`${scheme}:// stores are not available in this depc (${(error as Error).message.split("\n")[0]})`);
    }
    // Either the module registered itself, or it exports its factory.
    if (!schemes.has(scheme)) {
      const factory = loaded.openS3Store ?? loaded.openStore ?? loaded.default;
      if (typeof factory === "function") registerStoreScheme(scheme, factory as StoreFactory);
    }
  }
  const factory = schemes.get(scheme);
  if (factory === undefined) throw new StoreError(`${JSON.stringify(spec)}: unknown store scheme ${scheme}:// (give a directory, an s3:// bucket or an http(s):// URL)`);
  return factory(spec, options);
}

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? String(error);

/** Temp files of this machine's writers: `.<name>.<host>.<pid>.<random>.tmp`. */
const TEMP_MARK = `.${hostname().replace(/[^A-Za-z0-9-]/g, "_")}.`;

/**
 * Removes the temp files that writers on this machine left when killed
 * (kill -9, a crash): their process is gone. Another machine's (a shared
 * file system) and a running writer's are left alone.
 */
function sweepTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(".") || !name.endsWith(".tmp")) continue;
    const at = name.lastIndexOf(TEMP_MARK);
    const pid = at < 0 ? NaN : Number(name.slice(at + TEMP_MARK.length).split(".")[0]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    try {
      rmSync(join(dir, name), { force: true });
    } catch {
      // Someone else's to clean up.
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A directory. Writes go to a temp file in the object's own directory,
 * flushed, then renamed over the name: a reader (a web server serving the
 * directory) sees the old object or the new, and a killed publish leaves at
 * worst a `.*.tmp` file that no layout path names, removed by the next
 * publish that writes to the store (sweepTemps).
 */
export class DirectoryStore implements Store {
  constructor(
    readonly describe: string,
    readonly root: string,
  ) {}

  private file(path: string): string {
    checkStorePath(path);
    return join(this.root, ...path.split("/"));
  }

  async get(path: string): Promise<Uint8Array | undefined> {
    const file = this.file(path);
    try {
      return readFileSync(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      throw new StoreError(`cannot read ${path} in the store ${this.describe}: ${errorCode(error)}`);
    }
  }

  async has(path: string): Promise<boolean> {
    const file = this.file(path);
    try {
      return statSync(file).isFile();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return false;
      throw new StoreError(`cannot read ${path} in the store ${this.describe}: ${errorCode(error)}`);
    }
  }

  private swept = false;

  async put(path: string, bytes: Uint8Array): Promise<void> {
    const file = this.file(path);
    const temp = join(dirname(file), `.${path.split("/").pop()}${TEMP_MARK}${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    try {
      mkdirSync(dirname(file), { recursive: true });
      if (!this.swept) {
        // Once per store opened for writing: the root and the folders of the layout.
        this.swept = true;
        sweepTemps(this.root);
        for (const entry of readdirSync(this.root, { withFileTypes: true })) if (entry.isDirectory()) sweepTemps(join(this.root, entry.name));
      }
      writeFileSync(temp, bytes, { mode: 0o644 });
      // The bytes reach the disk before the name does: a crash never leaves a named, empty object.
      const fd = openSync(temp, "r");
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, file);
    } catch (error) {
      try {
        rmSync(temp, { force: true });
      } catch {
        // Its directory is not there either.
      }
      throw new StoreError(`cannot write ${path} to the store ${this.describe}: ${errorCode(error)}`);
    }
  }
}

/** A static web server's copy of a store: GET only (`depc status --store https://…`). */
export class HttpStore implements Store {
  private readonly base: string;

  constructor(readonly describe: string) {
    this.base = describe.endsWith("/") ? describe : `${describe}/`;
  }

  private async request(path: string, method: "GET" | "HEAD"): Promise<Response | undefined> {
    checkStorePath(path);
    let response: Response;
    try {
      response = await fetch(this.base + path, { method, redirect: "follow", signal: AbortSignal.timeout(30_000) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new StoreError(`cannot fetch ${path} from the store ${this.describe}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
    if (response.status === 404 || response.status === 410) return undefined;
    if (!response.ok) throw new StoreError(`cannot fetch ${path} from the store ${this.describe}: HTTP ${response.status}`);
    return response;
  }

  async get(path: string): Promise<Uint8Array | undefined> {
    const response = await this.request(path, "GET");
    return response === undefined ? undefined : new Uint8Array(await response.arrayBuffer());
  }

  async has(path: string): Promise<boolean> {
    const response = await this.request(path, "HEAD");
    return response !== undefined;
  }

  async put(path: string): Promise<void> {
    throw new StoreError(`the store ${this.describe} is read-only: publish to a directory or an s3:// bucket, and serve that over http(s)`);
  }
}
