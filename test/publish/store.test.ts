// Stores: the directory store on a real file system (atomic writes, reads,
// refusals), and the read-only http store against a real local web server
// (node's http module serving a directory store's files).
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { StoreError, checkStorePath, openStore, registerStoreScheme, type Store } from "../../tools/publish/store.js";

const temp = (name: string) => mkdtempSync(join(tmpdir(), `depc-store-${name}-`));
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

const message = async (f: () => Promise<unknown>) => {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    return (e as Error).message;
  }
  throw new Error("no error");
};

describe("directory store", () => {
  it("writes objects under the root, reads them back, knows what it lacks", async () => {
    const root = join(temp("dir"), "prod");
    const store = await openStore("prod", { cwd: join(root, "..") });
    expect(store.describe).toBe("prod");
    expect(await store.has("latest")).toBe(false);
    expect(await store.get("latest")).toBeUndefined();
    expect(await store.get("manifests/1")).toBeUndefined();
    await store.put("manifests/1", bytes("one\n"));
    await store.put("latest", bytes("1\n"));
    expect(readFileSync(join(root, "manifests", "1"), "utf8")).toBe("one\n");
    expect(text(await store.get("latest"))).toBe("1\n");
    expect(await store.has("manifests/1")).toBe(true);
    // Replacing leaves only the object: no temp file behind.
    await store.put("latest", bytes("2\n"));
    expect(text(await store.get("latest"))).toBe("2\n");
    expect(readdirSync(root).sort()).toEqual(["latest", "manifests"]);
    expect((await import("node:fs")).statSync(join(root, "latest")).mode & 0o777).toBe(0o644);
  });

  it("a reader never sees part of an object: the name appears with all its bytes", async () => {
    const root = temp("atomic");
    const store = await openStore(root);
    const big = new Uint8Array(8 << 20).fill(65);
    const writing = store.put("bundles/big", big);
    // While the write is under way the name is absent or whole (it is renamed in place).
    const seen = readdirSync(root).includes("bundles") ? readdirSync(join(root, "bundles")) : [];
    expect(seen.filter((n) => n === "big").every(() => readFileSync(join(root, "bundles", "big")).length === big.length)).toBe(true);
    await writing;
    expect(readFileSync(join(root, "bundles", "big")).length).toBe(big.length);
    expect(readdirSync(join(root, "bundles"))).toEqual(["big"]);
  });

  it("refuses paths outside the store and reports an unwritable one in one line", async () => {
    for (const bad of ["", "/etc/passwd", "../x", "a//b", "a/./b", "a\\b", "a\nb"]) {
      expect(() => checkStorePath(bad)).toThrow(`${JSON.stringify(bad)} is not a path inside a store`);
    }
    const root = temp("ro");
    mkdirSync(join(root, "bundles"));
    chmodSync(join(root, "bundles"), 0o555);
    const store = await openStore(root);
    // root writes anyway (the file-in-the-way case below is for everyone).
    if (process.getuid?.() !== 0) {
      expect(await message(() => store.put("bundles/x", bytes("x")))).toBe(`cannot write bundles/x to the store ${root}: EACCES`);
      expect(readdirSync(join(root, "bundles"))).toEqual([]);
    }
    writeFileSync(join(root, "file"), "not a directory");
    expect(await message(() => store.put("file/x", bytes("x")))).toBe(`cannot write file/x to the store ${root}: EEXIST`);
    expect(await store.get("file/x")).toBeUndefined();
  });

  it("the first write sweeps temp files that killed writers of this machine left, and nobody else's", async () => {
    const root = temp("sweep");
    mkdirSync(join(root, "bundles"));
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    const host = hostname().replace(/[^A-Za-z0-9-]/g, "_");
    const names = {
      dead: `.latest.${host}.${dead}.0a0b0c0d.tmp`,
      deadInBundles: `.${"a".repeat(64)}.${host}.${dead}.01020304.tmp`,
      running: `.latest.${host}.${process.ppid}.0a0b0c0d.tmp`,
      otherMachine: `.latest.elsewhere.${dead}.0a0b0c0d.tmp`,
    };
    for (const [key, name] of Object.entries(names)) writeFileSync(join(root, key === "deadInBundles" ? "bundles" : "", name), "partial");
    const store = await openStore(root);
    await store.put("manifests/1", bytes("m\n"));
    expect(readdirSync(root).sort()).toEqual([names.otherMachine, names.running, "bundles", "manifests"].sort());
    expect(readdirSync(join(root, "bundles"))).toEqual([]);
  });

  it("file:// URLs are directories", async () => {
    const root = temp("fileurl");
    const store = await openStore(`file://${root}`);
    await store.put("latest", bytes("3\n"));
    expect(readFileSync(join(root, "latest"), "utf8")).toBe("3\n");
  });
});

describe("schemes", () => {
  it("an unknown scheme is one line", async () => {
    expect(await message(() => openStore("ftp://host/prod"))).toBe('"ftp://host/prod": unknown store scheme ftp:// (give a directory, an s3:// bucket or an http(s):// URL)');
  });

  it("a registered scheme opens through its factory", async () => {
    const opened: string[] = [];
    registerStoreScheme("memtest", (spec) => {
      opened.push(spec);
      const objects = new Map<string, Uint8Array>();
      const store: Store = { describe: spec, get: async (p) => objects.get(p), put: async (p, b) => void objects.set(p, b), has: async (p) => objects.has(p) };
      return store;
    });
    const store = await openStore("memtest://x/y");
    await store.put("latest", bytes("1\n"));
    expect(text(await store.get("latest"))).toBe("1\n");
    expect(opened).toEqual(["memtest://x/y"]);
  });
});

describe("http store (read-only)", () => {
  const root = temp("http");
  writeFileSync(join(root, "latest"), "5\n");
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname).replace(/^\/prod\//, "");
    if (path === "boom") return void res.writeHead(500).end();
    try {
      const data = readFileSync(join(root, path));
      res.writeHead(200, { "content-length": data.length }).end(req.method === "HEAD" ? undefined : data);
    } catch {
      res.writeHead(404).end();
    }
  });
  const listening = new Promise<number>((ok) => server.listen(0, "127.0.0.1", () => ok((server.address() as { port: number }).port)));
  afterAll(() => server.close());

  it("GETs objects, 404 is absent, other statuses and put are one-line errors", async () => {
    const port = await listening;
    const url = `http://127.0.0.1:${port}/prod`;
    const store = await openStore(url);
    expect(text(await store.get("latest"))).toBe("5\n");
    expect(await store.has("latest")).toBe(true);
    expect(await store.has("manifests/5")).toBe(false);
    expect(await store.get("manifests/5")).toBeUndefined();
    expect(await message(() => store.get("boom"))).toBe(`cannot fetch boom from the store ${url}: HTTP 500`);
    expect(await message(() => store.put("latest", bytes("6\n")))).toBe(`the store ${url} is read-only: publish to a directory or an s3:// bucket, and serve that over http(s)`);
    // A port nothing listens on: one that was just closed.
    const gone = createServer();
    const free = await new Promise<number>((ok) => gone.listen(0, "127.0.0.1", () => ok((gone.address() as { port: number }).port)));
    await new Promise((ok) => gone.close(ok));
    const closed = await openStore(`http://127.0.0.1:${free}/prod/`);
    expect(await message(() => closed.get("latest"))).toBe(`cannot fetch latest from the store http://127.0.0.1:${free}/prod/: ECONNREFUSED`);
  });
});
