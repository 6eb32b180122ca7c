/**
 * Download on a real filesystem under every shell of the matrix, fetching
 * from a real HTTP server on loopback (Node's http, in the test) with each
 * download tool as the host's only one: curl and GNU wget (PATH restricted)
 * under five shells, busybox wget under busybox sh (whose PATH holds only
 * busybox applets).
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Directory, Download } from "../../model/index.js";
import { availableShells, requireTool, type Shell } from "../support/shells.js";
import { fileServer, host, lines, toolPath, type FileServer } from "./fetch-support.js";
import { leftoverTemps } from "./helpers.js";

const base = mkdtempSync(join(tmpdir(), "depc-download-"));
let server: FileServer;
const body = randomBytes(200_000);
const sha = createHash("sha256").update(body).digest("hex");
const other = Buffer.from("not the release\n");
const otherSha = createHash("sha256").update(other).digest("hex");
beforeAll(async () => {
  server = await fileServer();
  server.serve("/app.tgz", { body });
  server.serve("/bad.tgz", { body: other });
  server.serve("/slow.tgz", { body, stallMs: 5_000 });
});
afterAll(async () => {
  await server.close();
  rmSync(base, { recursive: true, force: true });
});

const tools = requireTool("curl") && requireTool("wget");
type Case = { shell: Shell; tool: string; only: "curl" | "wget" | undefined };
const matrix = availableShells().flatMap((shell): Case[] =>
  shell.env?.PATH ? [{ shell, tool: "busybox wget", only: undefined }] : (["curl", "wget"] as const).map((tool) => ({ shell, tool: tool as string, only: tool })),
);

describe.skipIf(!tools).each(matrix)("Download under $shell.name with $tool", ({ shell, tool, only }) => {
  const label = `${shell.name}-${tool}`.replace(/\W+/g, "-");
  const dir = () => mkdtempSync(join(base, `${label}-`));
  const pathFor = (_d: string) => (only === undefined ? undefined : toolPath(base, only));

  it("fetches once, verifies, sets the mode, fetches again only when the file differs, and removes it when it leaves the model", async () => {
    const d = dir();
    const h = host(d, shell, pathFor(d));
    const root = join(d, "srv");
    const url = `${server.base}/app.tgz`;
    const hits = () => server.hits.get("/app.tgz") ?? 0;
    const before = hits();
    const model = [Directory({ path: root }), Download({ path: `${root}/app.tgz`, url, sha256: sha, mode: 0o640 })];

    const check = await h.run(model, ["--check"]);
    expect(check.code).toBe(2);
    expect(lines(check.stdout)).toEqual([`would change  directory ${root} (created)`, `would change  download ${root}/app.tgz (created, download ${url})`]);
    expect(hits()).toBe(before);

    const first = await h.run(model);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(lines(first.stdout)).toContain(`changed       download ${root}/app.tgz (created, download ${url})`);
    expect(readFileSync(`${root}/app.tgz`).equals(body)).toBe(true);
    expect(statSync(`${root}/app.tgz`).mode & 0o7777).toBe(0o640);
    expect(hits()).toBe(before + 1);

    const again = await h.run(model);
    expect(lines(again.stdout)).toEqual([`ok            directory ${root}`, `ok            download ${root}/app.tgz`]);
    expect(hits()).toBe(before + 1);

    // Changed on the host: fetched again. Only the mode changed: fixed in place.
    writeFileSync(`${root}/app.tgz`, "tampered\n");
    const refetch = await h.run(model);
    expect(lines(refetch.stdout)).toContain(`changed       download ${root}/app.tgz (content, download ${url})`);
    expect(readFileSync(`${root}/app.tgz`).equals(body)).toBe(true);
    chmodSync(`${root}/app.tgz`, 0o600);
    const mode = await h.run(model);
    expect(lines(mode.stdout)).toContain(`changed       download ${root}/app.tgz (mode 0600 -> 0640)`);
    expect(hits()).toBe(before + 2);

    const gone = await h.run([Directory({ path: root })]);
    expect(gone.code).toBe(0);
    expect(lines(gone.stdout)).toEqual([`ok            directory ${root}`, `removed       download ${root}/app.tgz`]);
    expect(existsSync(`${root}/app.tgz`)).toBe(false);
    expect(leftoverTemps(d)).toEqual([]);
  });

  it("a wrong checksum fails naming both digests and leaves nothing at the path (or the old file as it was)", async () => {
    const d = dir();
    const h = host(d, shell, pathFor(d));
    const root = join(d, "srv");
    const url = `${server.base}/bad.tgz`;
    const r = await h.run([Directory({ path: root }), Download({ path: `${root}/a.tgz`, url, sha256: sha })]);
    expect(r.code).toBe(1);
    const reason = `${url} has sha256 ${otherSha}, expected ${sha}: not installed`;
    expect(lines(r.stdout)).toContain(`failed        download ${root}/a.tgz: ${reason}`);
    expect(r.stderr).toBe(`depc: prod/h: download ${root}/a.tgz: ${reason}\n`);
    expect(existsSync(`${root}/a.tgz`)).toBe(false);
    expect(leftoverTemps(d)).toEqual([]);

    writeFileSync(`${root}/a.tgz`, "old\n");
    const again = await h.run([Directory({ path: root }), Download({ path: `${root}/a.tgz`, url, sha256: sha })]);
    expect(again.code).toBe(1);
    expect(readFileSync(`${root}/a.tgz`, "utf8")).toBe("old\n");
    expect(leftoverTemps(d)).toEqual([]);
  });

  it("a failed fetch (404) fails with the tool's reason and leaves nothing", async () => {
    const d = dir();
    const h = host(d, shell, pathFor(d));
    const root = join(d, "srv");
    const url = `${server.base}/missing.tgz`;
    const r = await h.run([Directory({ path: root }), Download({ path: `${root}/a.tgz`, url, sha256: sha })]);
    expect(r.code).toBe(1);
    const name = tool === "curl" ? "curl" : "wget";
    expect(r.stderr).toMatch(new RegExp(`^depc: prod/h: download ${root}/a\\.tgz: cannot download ${url.replace(/\./g, "\\.")} with ${name}: .*404.*\\n$`));
    expect(existsSync(`${root}/a.tgz`)).toBe(false);
    expect(leftoverTemps(d)).toEqual([]);
  });

  it("kill -9 mid-download leaves nothing at the path, and the next run converges with no temp file left", async () => {
    const d = dir();
    const h = host(d, shell, pathFor(d));
    const root = join(d, "srv");
    const model = [Directory({ path: root }), Download({ path: `${root}/a.tgz`, url: `${server.base}/slow.tgz`, sha256: sha })];
    const killed = await h.run(model, [], 1_500);
    expect(killed.code).toBe(null);
    expect(existsSync(`${root}/a.tgz`)).toBe(false);
    expect(leftoverTemps(root).length).toBe(1); // the half-written temp file, until the next run
    server.serve("/slow.tgz", { body });
    try {
      const next = await h.run(model);
      expect(next.stderr).toMatch(/^(depc: prod\/h: warning: took over a stale lock: .*\n)?$/);
      expect(next.code).toBe(0);
      expect(readFileSync(`${root}/a.tgz`).equals(body)).toBe(true);
      expect(leftoverTemps(d)).toEqual([]);
    } finally {
      server.serve("/slow.tgz", { body, stallMs: 5_000 });
    }
  });
});

describe.each(availableShells().filter((s) => s.name === "dash" || s.name === "busybox sh"))("Download without a tool under $name", (shell) => {
  it("fails with one line naming the host, the resource and both tools", async () => {
    const d = mkdtempSync(join(base, "none-"));
    const path = shell.env?.PATH ? join(d, "empty-path") : toolPath(base);
    if (shell.env?.PATH) {
      // busybox's applets without its wget.
      const { mkdirSync, readdirSync, symlinkSync, readlinkSync } = await import("node:fs");
      mkdirSync(path);
      for (const name of readdirSync(shell.env.PATH)) if (name !== "wget") symlinkSync(readlinkSync(join(shell.env.PATH, name)), join(path, name));
    }
    const h = host(d, shell, path);
    const url = `${server.base}/app.tgz`;
    const r = await h.run([Download({ path: `${d}/a.tgz`, url, sha256: sha })]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`depc: prod/h: download ${d}/a.tgz: cannot download ${url}: host h has neither 'curl' nor 'wget' (PATH=${path})\n`);
  });
});
