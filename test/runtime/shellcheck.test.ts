/**
 * The runtime is shellcheck-clean as files and as part of a bundle, and keeps
 * the shape the compiler's tree-shaker relies on.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { requireTool } from "../support/shells.js";
import { buildBundle, RUNTIME_FILES, runtimeFunctions, treeShake } from "./bundle.js";
import { hostRoot } from "./helpers.js";

const runtimeFiles = [...RUNTIME_FILES];

function shellcheck(files: string[]): { status: number | null; output: string } {
  const r = spawnSync("shellcheck", ["-s", "sh", ...files], { encoding: "utf8" });
  return { status: r.status, output: r.stdout + r.stderr };
}

describe("runtime shape", () => {
  it("holds only functions and comments, every name prefixed depc_", () => {
    const functions = runtimeFunctions();
    expect(functions.size).toBeGreaterThan(10);
    for (const name of functions.keys()) expect(name).toMatch(/^depc_[a-z0-9_]+$/);
  });

  it("uses every depc_ word as either a runtime function or an assigned variable, never both", () => {
    const functions = runtimeFunctions();
    const provided = new Set(["depc_expect", "depc_facts", "depc_resources", "depc_notifies", "depc_evasions", "depc_evade", "depc_ledger"]);
    const code = [...functions.values()].map((f) => f.text.split("\n").filter((l) => !/^\s*#/.test(l)).join("\n")).join("\n");
    const assigned = new Set([...code.matchAll(/(?:^|[\s;])(depc_[a-z0-9_]+)=/gm)].map((m) => m[1] as string));
    for (const name of assigned) expect(functions.has(name), `${name} is both a variable and a function`).toBe(false);
    for (const fn of functions.values()) {
      for (const word of fn.words) {
        const known = functions.has(word) || provided.has(word) || assigned.has(word);
        expect(known, `${fn.name} uses ${word}, which is neither a function nor an assigned variable`).toBe(true);
      }
    }
  });

  it("tree-shakes: a directory-only bundle carries no file or symlink code", () => {
    const names = treeShake(["depc_main", "depc_step", "depc_directory", "depc_fact_stat"]).map((f) => f.name);
    expect(names).toContain("depc_attrs_apply");
    expect(names).not.toContain("depc_file");
    expect(names).not.toContain("depc_symlink");
    expect(names).not.toContain("depc_diff");
  });
});

describe.runIf(requireTool("shellcheck"))("shellcheck -s sh", () => {
  it.each(runtimeFiles)("%s is clean", (file) => {
    const r = shellcheck([file]);
    expect(r.output).toBe("");
    expect(r.status).toBe(0);
  });

  it("a bundle using every runtime function is clean", () => {
    const root = hostRoot("shellcheck");
    const bundle = buildBundle({
      env: "prod",
      host: "web1",
      resources: [
        { kind: "directory", path: `${root}/d`, mode: "0755", owner: "root", group: "root" },
        { kind: "file", path: `${root}/d/text`, content: "text\n" },
        { kind: "file", path: `${root}/d/nonl`, content: "no newline" },
        { kind: "file", path: `${root}/d/bin`, content: Uint8Array.from([0, 1, 2, 255]) },
        { kind: "file", path: `${root}/d/empty`, content: "" },
        { kind: "symlink", path: `${root}/l`, target: "-x '$y'\n" },
        { kind: "custom", key: "opaque", body: "  depc_invalidate_facts" },
      ],
      extraRoots: [...runtimeFunctions().keys()],
    });
    const path = join(root, "bundle.sh");
    writeFileSync(path, bundle);
    const r = shellcheck([path]);
    expect(r.output).toBe("");
    // Notifications, secrets and the resource kinds with a runtime file of
    // their own (command.sh, service.sh, supervisor.sh, virtualenv.sh...) are
    // reached from compiler-emitted calls only (the golden bundles, shellchecked
    // in test/compiler/golden.test.ts, cover them): this checks that no
    // function of the core files is dead.
    const coreFiles = new Set(["attrs.sh", "core.sh", "diff.sh", "directory.sh", "facts.sh", "file.sh", "report.sh", "state.sh", "symlink.sh"]);
    const emittedOnly = new Set(["depc_owe", "depc_is_owed", "depc_settle", "depc_masked"]);
    // Remove functions (depc_*_remove) are roots the emitter adds to every bundle.
    const all = [...runtimeFunctions().values()].filter((f) => coreFiles.has(f.file) && !emittedOnly.has(f.name) && !/_remove$/.test(f.name)).map((f) => f.name);
    const carried = treeShake(["depc_main", "depc_step", "depc_directory", "depc_file", "depc_symlink", "depc_text_nonl", "depc_fact_stat", "depc_fact_sha256", "depc_invalidate_facts"])
      .filter((f) => coreFiles.has(f.file))
      .map((f) => f.name);
    expect(carried.sort()).toEqual(all.sort());
  });

  it.each([
    ["directory only", [{ kind: "directory" as const, path: "/srv/x" }]],
    ["symlink only", [{ kind: "symlink" as const, path: "/srv/l", target: "/srv/x" }]],
    ["file only", [{ kind: "file" as const, path: "/srv/f", content: "x\n" }]],
  ])("a %s bundle is clean", (_label, resources) => {
    const root = hostRoot("shellcheck");
    const path = join(root, "bundle.sh");
    writeFileSync(path, buildBundle({ resources }));
    const r = shellcheck([path]);
    expect(r.output).toBe("");
  });
});
