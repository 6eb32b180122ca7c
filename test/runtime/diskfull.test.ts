/**
 * A full disk (issue 13, finding 12): the failure names the path and says
 * "no space left on device", once; nothing partial is left. Real small
 * tmpfs mounts (root, as CI runs), as the target's filesystem and as TMPDIR,
 * under every shell of the matrix.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { File, environment } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { availableShells, runScript } from "../support/shells.js";

const isRoot = process.getuid?.() === 0;
if (!isRoot && process.env.CI === "true") throw new Error("test/runtime/diskfull.test.ts needs root to mount tmpfs (CI=true: it must not be skipped)");

const base = mkdtempSync(join(tmpdir(), "depc-diskfull-"));
const full = join(base, "full");
const fullTmp = join(base, "fulltmp");
const roomy = join(base, "roomy");

function mount(dir: string, size: string): void {
  mkdirSync(dir);
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0755`, "tmpfs", dir], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`mount tmpfs on ${dir}: ${r.stderr}`);
}

beforeAll(() => {
  if (!isRoot) return;
  mount(full, "64k");
  mount(fullTmp, "64k");
  mkdirSync(roomy);
  // TMPDIR's filesystem has room for names, none for bytes.
  writeFileSync(join(fullTmp, "filler"), Buffer.alloc(64 * 1024));
});
afterAll(() => {
  for (const d of [full, fullTmp]) spawnSync("umount", [d]);
  rmSync(base, { recursive: true, force: true });
});

const binary = new Uint8Array(256 * 1024).map((_, i) => (i * 131 + (i >> 8)) % 256);
const text = "a line of text that is long enough to fill a page quickly\n".repeat(5000);

function bundleFor(dir: string, label: string): string {
  const bundle = compileValue(
    environment({ hosts: { h: [File({ path: `${dir}/big.bin`, content: binary }), File({ path: `${dir}/big.txt`, content: text })] } }),
    "prod",
  ).bundles!.get("h")!;
  const path = join(base, `${label}.sh`);
  writeFileSync(path, bundle, { mode: 0o700 });
  return path;
}

describe.runIf(isRoot).each(availableShells())("a full disk under $name", (shell) => {
  const label = shell.name.replace(/\W+/g, "-");

  it("the target's filesystem: one line naming the file and 'no space left on device'; no temp file left", () => {
    const bundle = bundleFor(full, `target-${label}`);
    const tmp = mkdtempSync(join(base, "tmp-"));
    const r = runScript(shell, bundle, [], { env: { TMPDIR: tmp, DEPC_STATE_DIR: join(base, `state-${label}`) } });
    expect(r.status).toBe(1);
    const reason = new RegExp(`^failed {8}file ${full}/big\\.bin: cannot write the content of ${full}/big\\.bin to ${full}/\\.depc\\.[\\w.]+: no space left on device$`);
    expect(r.stdout.split("\n")[0]).toMatch(reason);
    expect(r.stdout.split("\n").slice(1)).toEqual(["depc: prod/h: 2 resources: 0 changed, 0 ok, 1 failed, 1 not run", ""]);
    const err = r.stderr.split("\n");
    expect(err[0]).toMatch(new RegExp(`^depc: prod/h: file ${full}/big\\.bin: cannot write the content of ${full}/big\\.bin to ${full}/\\.depc\\.[\\w.]+: no space left on device$`));
    expect(err.slice(1)).toEqual([""]);
    expect(readdirSync(full)).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it("text content: the same", () => {
    // Only the text file: its step alone.
    const bundle = bundleFor(full, `text-${label}`);
    expect(spawnSync("sed", ["-i", "/depc_step 1 /d", bundle]).status).toBe(0);
    const r = runScript(shell, bundle, [], { env: { TMPDIR: mkdtempSync(join(base, "tmp-")), DEPC_STATE_DIR: join(base, `state-t-${label}`) } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^depc: prod/h: file ${full}/big\\.txt: cannot write the content of ${full}/big\\.txt to ${full}/\\.depc\\.[\\w.]+: no space left on device\\n$`));
    expect(readdirSync(full)).toEqual([]);
  });

  it("TMPDIR on the full disk: says so before anything runs, and leaves nothing there", () => {
    const bundle = bundleFor(roomy, `tmpdir-${label}`);
    const r = runScript(shell, bundle, [], { env: { TMPDIR: fullTmp, DEPC_STATE_DIR: join(base, `state-tmp-${label}`) } });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      new RegExp(`^depc: prod/h: cannot write to the temporary directory ${fullTmp}/depc\\.\\d+\\.\\w+: no space left on device \\(set TMPDIR to choose another directory\\)\\n$`),
    );
    expect(readdirSync(fullTmp)).toEqual(["filler"]);
    expect(existsSync(`${roomy}/big.bin`)).toBe(false);
  });
});
