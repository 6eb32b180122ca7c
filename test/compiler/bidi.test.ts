/**
 * Issue 13, finding 11: Unicode bidirectional controls in paths and
 * arguments must not reach a bundle raw — a reviewer reading it would see
 * text in another order than the shell runs it (the "Trojan Source" trick).
 * File content was already escaped for this reason; names and arguments
 * now are too, while the host still gets the exact bytes.
 */
import { spawnSync } from "node:child_process";
import { lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Command, Directory, environment, File, Symlink } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { compileFiles } from "../support/project.js";
import { availableShells, requireTool } from "../support/shells.js";

const BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c"];
const RAW = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/;

const root = mkdtempSync(join(tmpdir(), "depc-bidi-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function bundleFor(base: string): string {
  const dir = `${base}/d\u2066ir\u2069`;
  return compileValue(
    environment({
      hosts: {
        web1: [
          Directory({ path: dir }),
          File({ path: `${dir}/evil\u202etxt.sh`, content: "x\n" }),
          Symlink({ path: `${dir}/link\u200f`, target: `t\u202earget${BIDI.join("")}'q'` }),
          Command({ name: "mark", command: ["touch", `${dir}/made\u202eby-command`], creates: `${dir}/made\u202eby-command` }),
        ],
      },
    }),
    "bidi",
  ).bundles!.get("web1")!;
}

describe("bidi controls in paths and arguments", () => {
  it("the bundle holds no raw bidi control; comments show them escaped", () => {
    const text = bundleFor("/srv");
    expect(RAW.exec(text)).toBeNull();
    expect(text).toContain("  # [2] file /srv/d\\u2066ir\\u2069/evil\\u202etxt.sh (unknown site)\n");
    // Arguments: the same bytes, spelled so that a reviewer sees the escape.
    expect(text).toContain(`'/srv/d'"$(printf '\\342\\201\\246')"'ir'"$(printf '\\342\\201\\251')"'/evil'"$(printf '\\342\\200\\256')"'txt.sh'`);
  });

  it.runIf(requireTool("shellcheck"))("the escaped spelling is shellcheck-clean", () => {
    const script = join(root, "shellcheck.sh");
    writeFileSync(script, bundleFor("/srv"));
    const r = spawnSync("shellcheck", ["-s", "sh", script], { encoding: "utf8" });
    expect(r.stdout).toBe("");
    expect(r.status).toBe(0);
  });

  for (const shell of availableShells()) {
    it(`applying it under ${shell.name} creates exactly the names and target given`, () => {
      const base = mkdtempSync(join(root, "t-"));
      const script = join(base, "web1.sh");
      writeFileSync(script, bundleFor(base), { mode: 0o700 });
      const env = { ...process.env, TMPDIR: base, DEPC_STATE_DIR: join(base, "state"), ...shell.env };
      const [command, ...leading] = shell.argv;
      const apply = spawnSync(command!, [...leading, script], { env, encoding: "utf8" });
      expect(apply.stderr).toBe("");
      expect(apply.status).toBe(0);
      const dirBytes = Buffer.from("d\u2066ir\u2069");
      const top = readdirSync(base, { encoding: "buffer" });
      expect(top.some((n) => n.equals(dirBytes))).toBe(true);
      const dir = join(base, "d\u2066ir\u2069");
      const names = readdirSync(dir, { encoding: "buffer" }).map((n) => n.toString("hex")).sort();
      expect(names).toEqual(["evil\u202etxt.sh", "link\u200f", "made\u202eby-command"].map((n) => Buffer.from(n).toString("hex")).sort());
      expect(lstatSync(join(dir, "link\u200f")).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(dir, "link\u200f"), { encoding: "buffer" }).equals(Buffer.from(`t\u202earget${BIDI.join("")}'q'`))).toBe(true);
      const again = spawnSync(command!, [...leading, script], { env, encoding: "utf8" });
      expect(again.status).toBe(0);
      expect(again.stdout).not.toMatch(/^changed\s/m);
    });
  }
});

describe("bidi controls in diagnostics", () => {
  it("a value quoted in a message shows them escaped", async () => {
    const result = await compileFiles({
      "env/prod.ts": `import { environment, File } from "depc";\nexport default environment({ hosts: { web1: [File({ path: "etc/\u202emotd", content: "x" })] } });\n`,
    });
    expect(result.diagnostics.map((d) => d.message)).toEqual(['File path must be absolute: "etc/\\u202emotd"']);
  });
});
