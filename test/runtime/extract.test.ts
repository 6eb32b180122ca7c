/**
 * Extract on a real filesystem under every shell of the matrix: GNU tar and
 * Info-ZIP unzip on PATH for five shells, busybox tar and unzip for busybox
 * sh (its PATH holds only busybox applets). Archives are made here with
 * tar, gzip, xz, bzip2 and zip. kill -9 mid-extract: the old tree stays live
 * (or, killed between the two renames, none: documented) and the next run
 * converges with nothing left over.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Command, Directory, Extract, File } from "../../model/index.js";
import { availableShells, requireTool } from "../support/shells.js";
import { host, lines } from "./fetch-support.js";
import { leftoverTemps } from "./helpers.js";

const base = mkdtempSync(join(tmpdir(), "depc-extract-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const tools = ["tar", "gzip", "xz", "bzip2", "zip", "unzip"].every((t) => requireTool(t));

function sh(cwd: string, ...argv: string[]): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
}

/** A source tree app-1.0/ with the given files, packed in every format; returns the archive paths by format. */
function archives(dir: string, files: Record<string, string | Buffer>, formats: readonly string[] = ["tar", "tar.gz", "tar.xz", "tar.bz2", "zip"]): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const src = join(dir, "src");
  rmSync(src, { recursive: true, force: true });
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(src, "app-1.0", name, ".."), { recursive: true });
    writeFileSync(join(src, "app-1.0", name), content);
  }
  chmodSync(join(src, "app-1.0"), 0o755);
  const out: Record<string, string> = {};
  for (const [format, flag] of [["tar", ""], ["tar.gz", "z"], ["tar.xz", "J"], ["tar.bz2", "j"]] as const) {
    if (!formats.includes(format)) continue;
    out[format] = join(dir, `app.${format}`);
    sh(src, "tar", `-c${flag}f`, out[format]!, "app-1.0");
  }
  if (formats.includes("zip")) {
    out.zip = join(dir, "app.zip");
    rmSync(out.zip, { force: true });
    sh(src, "zip", "-qr", out.zip, "app-1.0");
  }
  return out;
}

describe.skipIf(!tools).each(availableShells())("Extract under $name", (shell) => {
  const label = shell.name.replace(/\W+/g, "-");

  it("extracts every format (strip, owner), is idempotent by the archive's digest, swaps in a new tree when it changes, and removes it", async () => {
    const d = mkdtempSync(join(base, `${label}-`));
    const h = host(d, shell, undefined);
    const root = join(d, "srv");
    const v1 = archives(join(d, "v1"), { "a.txt": "one\n", "sub/b.txt": "two\n", "old.txt": "only in 1.0\n" });
    const log = join(d, "reactions.log");
    const model = (a: Record<string, string>) => {
      const gz = Extract({ archive: a["tar.gz"]!, to: `${root}/gz`, strip: 1, owner: "nobody", group: "nogroup" });
      return [
        Directory({ path: root }),
        Extract({ archive: a.tar!, to: `${root}/tar` }),
        gz,
        Extract({ archive: a["tar.xz"]!, to: `${root}/xz`, strip: 1 }),
        Extract({ archive: a["tar.bz2"]!, to: `${root}/bz2`, strip: 1 }),
        Extract({ archive: a.zip!, to: `${root}/zip`, strip: 1 }),
        File({ path: `${root}/gz/settings.py`, content: "DEBUG = False\n" }),
        Command({ name: "on-release", command: ["sh", "-c", 'echo ran >> "$1"', "sh", log], whenChanged: [gz] }),
      ];
    };
    const first = await h.run(model(v1));
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(lines(first.stdout)).toEqual([
      `changed       directory ${root} (created)`,
      `changed       extract ${root}/tar (extract ${v1.tar})`,
      `changed       extract ${root}/gz (extract ${v1["tar.gz"]})`,
      `changed       extract ${root}/xz (extract ${v1["tar.xz"]})`,
      `changed       extract ${root}/bz2 (extract ${v1["tar.bz2"]})`,
      `changed       extract ${root}/zip (extract ${v1.zip})`,
      `changed       file ${root}/gz/settings.py (created)`,
      expect.stringMatching(/^changed       command on-release \(ran sh -c /),
    ]);
    expect(readFileSync(`${root}/tar/app-1.0/sub/b.txt`, "utf8")).toBe("two\n");
    for (const t of ["gz", "xz", "bz2", "zip"]) {
      expect(readFileSync(`${root}/${t}/a.txt`, "utf8")).toBe("one\n");
      expect(readFileSync(`${root}/${t}/sub/b.txt`, "utf8")).toBe("two\n");
    }
    const nobody = statSync(`${root}/gz/sub/b.txt`);
    expect([nobody.uid, statSync(`${root}/gz`).uid]).toEqual([65534, 65534]);
    expect(statSync(`${root}/xz/a.txt`).uid).toBe(process.getuid!());
    expect(readFileSync(`${root}/gz/.depc-extracted`, "utf8")).toMatch(/^depc-extract 1 [0-9a-f]{64} tar\.gz 1 nobody nogroup\n$/);

    const again = await h.run(model(v1));
    expect(again.code).toBe(0);
    expect(lines(again.stdout).filter((l) => !l.startsWith("ok "))).toEqual([]);

    // A new release: only what changed is extracted again, and its reaction runs.
    const v2 = { ...v1, ...archives(join(d, "v2"), { "a.txt": "one, v2\n", "sub/b.txt": "two\n" }) };
    v2.tar = v1.tar!;
    const check = await h.run(model(v2), ["--check"]);
    expect(check.code).toBe(2);
    expect(lines(check.stdout)).toContain(`would change  extract ${root}/gz (extract ${v2["tar.gz"]} again (it changed))`);
    const update = await h.run(model(v2));
    expect(update.stderr).toBe("");
    expect(lines(update.stdout).filter((l) => !l.startsWith("ok "))).toEqual([
      `changed       extract ${root}/gz (extract ${v2["tar.gz"]} again (it changed))`,
      `changed       extract ${root}/xz (extract ${v2["tar.xz"]} again (it changed))`,
      `changed       extract ${root}/bz2 (extract ${v2["tar.bz2"]} again (it changed))`,
      `changed       extract ${root}/zip (extract ${v2.zip} again (it changed))`,
      `changed       file ${root}/gz/settings.py (created)`,
      expect.stringMatching(/^changed       command on-release \(ran sh -c /),
    ]);
    expect(readFileSync(`${root}/gz/a.txt`, "utf8")).toBe("one, v2\n");
    expect(existsSync(`${root}/gz/old.txt`)).toBe(false);
    expect(readFileSync(`${root}/gz/settings.py`, "utf8")).toBe("DEBUG = False\n");
    expect(readFileSync(log, "utf8")).toBe("ran\nran\n");
    expect(leftoverTemps(d)).toEqual([]);

    const gone = await h.run([Directory({ path: root }), Extract({ archive: v2.tar!, to: `${root}/tar` })]);
    expect(gone.code).toBe(0);
    expect(readdirSync(root).sort()).toEqual(["tar"]);
  });

  it("refuses a directory depc did not extract, and a strip the archive cannot give, leaving nothing behind", async () => {
    const d = mkdtempSync(join(base, `${label}-refuse-`));
    const h = host(d, shell, undefined);
    const a = archives(join(d, "a"), { "a.txt": "one\n" });
    mkdirSync(join(d, "mine"));
    writeFileSync(join(d, "mine", "notes.txt"), "keep me\n");
    const r = await h.run([Extract({ archive: a["tar.gz"]!, to: join(d, "mine") })]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`depc: prod/h: extract ${d}/mine: ${d}/mine is not empty and was not extracted by depc (no ${d}/mine/.depc-extracted): move it away first\n`);
    expect(readdirSync(join(d, "mine"))).toEqual(["notes.txt"]);

    const s = await h.run([Extract({ archive: a.zip!, to: join(d, "x"), strip: 2 })]);
    expect(s.code).toBe(1);
    expect(s.stderr).toBe(`depc: prod/h: extract ${d}/x: cannot strip 2 leading directories from ${a.zip}: level 2 holds 1 entries, not one directory\n`);
    expect(existsSync(join(d, "x"))).toBe(false);
    expect(leftoverTemps(d)).toEqual([]);
  });

  if (shell.name === "dash" || shell.name === "busybox sh") {
    it("kill -9 while extracting: the old tree stays live (or none, killed between the renames), the next run converges, nothing is left over", async () => {
      const d = mkdtempSync(join(base, `${label}-kill-`));
      const h = host(d, shell, undefined);
      const root = join(d, "srv");
      const big = randomBytes(24 * 1024 * 1024);
      const v1 = archives(join(d, "v1"), { "a.txt": "old\n", "big.bin": big }, ["tar.gz"]);
      const v2 = archives(join(d, "v2"), { "a.txt": "new\n", "big.bin": Buffer.concat([big, Buffer.from("x")]) }, ["tar.gz"]);
      const model = (a: Record<string, string>) => [Directory({ path: root }), Extract({ archive: a["tar.gz"]!, to: `${root}/app`, strip: 1 })];
      expect((await h.run(model(v1))).code).toBe(0);
      const started = Date.now();
      expect((await h.run(model(v2))).code).toBe(0);
      const full = Date.now() - started;
      const seen = new Set<string>();
      for (let trial = 0; trial < 8; trial++) {
        const from = trial % 2 === 0 ? v1 : v2;
        const to = trial % 2 === 0 ? v2 : v1;
        expect((await h.run(model(from))).code).toBe(0);
        const killed = await h.run(model(to), [], Math.round(((trial + 0.5) / 8) * full));
        const live = existsSync(`${root}/app/a.txt`) ? readFileSync(`${root}/app/a.txt`, "utf8") : "(none)";
        seen.add(killed.code === null ? `killed: ${live === readFileSync(`${d}/${trial % 2 === 0 ? "v1" : "v2"}/src/app-1.0/a.txt`, "utf8") ? "old" : live}` : "finished");
        if (live !== "(none)") expect(existsSync(`${root}/app/.depc-extracted`)).toBe(true);
        const next = await h.run(model(to));
        expect(next.code).toBe(0);
        expect(readFileSync(`${root}/app/a.txt`, "utf8")).toBe(trial % 2 === 0 ? "new\n" : "old\n");
        expect(leftoverTemps(d)).toEqual([]);
        expect(readdirSync(root)).toEqual(["app"]);
      }
      expect(seen.has("killed: old")).toBe(true);
    }, 120_000);
  }

  if (shell.env?.PATH) {
    it("a host without unzip fails with one line naming the host, the resource and the tool", async () => {
      const d = mkdtempSync(join(base, `${label}-nounzip-`));
      const path = join(d, "path");
      const { readlinkSync, symlinkSync } = await import("node:fs");
      mkdirSync(path);
      for (const name of readdirSync(shell.env!.PATH!)) if (name !== "unzip") symlinkSync(readlinkSync(join(shell.env!.PATH!, name)), join(path, name));
      const h = host(d, shell, path);
      const a = archives(join(d, "a"), { "a.txt": "one\n" });
      const r = await h.run([Extract({ archive: a.zip!, to: join(d, "x") })]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`depc: prod/h: extract ${d}/x: cannot extract ${a.zip}: host h has no 'unzip' (PATH=${path})\n`);
    });
  }
});
