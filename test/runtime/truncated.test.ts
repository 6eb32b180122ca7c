/**
 * A bundle cut short anywhere exits 1 with "this bundle is incomplete" and
 * changes nothing (issue 13, finding 13): inside the header comment, inside
 * the block (a heredoc, printf content, the runtime), just before the final
 * `}`; run as a file and on stdin, under every shell of the matrix.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { INCOMPLETE_GUARD } from "../../compiler/emit/bundle.js";
import { Command, Directory, File, environment } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { availableShells } from "../support/shells.js";

const MESSAGE = "depc: this bundle is incomplete: it ends before its last line; copy it again\n";

const dir = mkdtempSync(join(tmpdir(), "depc-truncated-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = join(dir, "srv");
const text = compileValue(
  environment({
    hosts: {
      h: [
        Directory({ path: root }),
        File({ path: `${root}/a.txt`, content: "line one\n}\nDEPC\n" }),
        File({ path: `${root}/b.bin`, content: new Uint8Array([0, 1, 2, 0x7b, 0x7d, 0x27, 10, 255, 0x25]) }),
        Command({ name: "touch", command: ["touch", `${root}/ran`], creates: `${root}/ran` }),
      ],
    },
  }),
  "prod",
).bundles!.get("h")!;
const bytes = Buffer.from(text);
const lines = text.split("\n");
const headerEnd = text.indexOf("\n{\n") + 1; // the offset of the block's "{"
const guardEnd = lines[0]!.length + 1 + lines[1]!.length + 1;
const last = text.lastIndexOf("}\n");

/** Offsets to cut at: through the header comment, across the block, and just before the final `}`. */
function offsets(): number[] {
  const set = new Set<number>([guardEnd, headerEnd - 1, headerEnd, headerEnd + 1, headerEnd + 2, last - 1, last]);
  for (let o = guardEnd; o < headerEnd; o += 13) set.add(o);
  for (const needle of ["line one", "}\nDEPC", "printf '", "\\377", "depc_main \"$@\"", "depc_resources() {"]) {
    const at = text.indexOf(needle);
    expect(at, needle).toBeGreaterThan(0);
    set.add(at + 2);
  }
  const step = Math.floor((last - headerEnd) / 40);
  for (let o = headerEnd; o < last; o += step) set.add(o);
  return [...set].sort((a, b) => a - b);
}

describe("the incomplete-bundle guard", () => {
  it("is line 2 of a bundle; the block's first line disarms it", () => {
    expect(lines[1]).toBe(INCOMPLETE_GUARD);
    expect(text.slice(headerEnd, headerEnd + 14)).toBe("{\ntrap - EXIT\n");
    expect(text.endsWith('depc_main "$@"\n}\n')).toBe(true);
  });
});

describe.each(availableShells())("a bundle cut short under $name", (shell) => {
  const [cmd, ...lead] = shell.argv as [string, ...string[]];
  const env = { ...process.env, DEPC_STATE_DIR: join(dir, `state-${shell.name.replace(/\W+/g, "-")}`), ...shell.env };

  it("exits 1 with 'this bundle is incomplete' wherever it is cut, and runs nothing", () => {
    const bad: string[] = [];
    const file = join(dir, `cut-${shell.name.replace(/\W+/g, "-")}.sh`);
    for (const at of offsets()) {
      writeFileSync(file, bytes.subarray(0, at));
      for (const [how, r] of [
        ["as a file", spawnSync(cmd, [...lead, file], { env, encoding: "utf8", timeout: 30_000 })],
        ["on stdin", spawnSync(cmd, [...lead], { input: bytes.subarray(0, at), env, encoding: "utf8", timeout: 30_000 })],
      ] as const) {
        // posh runs no EXIT trap after a syntax error: cut inside the block, it
        // exits 1 with its own message ("`{' unmatched", "no closing quote"...).
        const posh = shell.name === "posh" && at > headerEnd;
        if (r.status !== 1 || !(posh ? /syntax error|unclosed|no closing quote/.test(r.stderr) : r.stderr.endsWith(MESSAGE)) || r.stdout !== "") {
          bad.push(`cut at ${at}/${bytes.length} ${JSON.stringify(text.slice(Math.max(0, at - 20), at))} ${how}: exit ${r.status}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`);
        }
      }
      if (existsSync(root)) bad.push(`cut at ${at}: ${root} was created`);
    }
    expect(bad).toEqual([]);
  });

  it("cut inside the guard line itself: not 0 (a shell syntax error, before the guard exists)", () => {
    const file = join(dir, `guard-${shell.name.replace(/\W+/g, "-")}.sh`);
    const zero: number[] = [];
    for (let at = lines[0]!.length + 2; at < guardEnd; at++) {
      writeFileSync(file, bytes.subarray(0, at));
      const r = spawnSync(cmd, [...lead, file], { env, encoding: "utf8", timeout: 30_000 });
      if (r.status === 0) zero.push(at);
    }
    expect(zero).toEqual([]);
  });

  it("whole, or without its final newline: runs", () => {
    const file = join(dir, `whole-${shell.name.replace(/\W+/g, "-")}.sh`);
    for (const end of [bytes.length, bytes.length - 1]) {
      rmSync(root, { recursive: true, force: true });
      writeFileSync(file, bytes.subarray(0, end));
      const r = spawnSync(cmd, [...lead, file, "--quiet"], { env, encoding: "utf8", timeout: 30_000 });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(readFileSync(`${root}/a.txt`, "utf8")).toBe("line one\n}\nDEPC\n");
      expect(existsSync(`${root}/ran`)).toBe(true);
    }
    rmSync(root, { recursive: true, force: true });
  });
});
