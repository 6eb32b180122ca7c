import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/build.js";
import { renderManifest } from "../../compiler/emit/manifest.js";
import { exampleEnvironments, goldenRoot, matchGolden } from "../support/golden.js";
import { compileFiles, repoRoot } from "../support/project.js";
import { requireTool } from "../support/shells.js";

describe("golden bundles of the examples", () => {
  for (const { example, env, path } of exampleEnvironments()) {
    it(`${path} builds to its golden bundles`, async () => {
      const result = await compile(path, { cwd: repoRoot, cacheDir: false });
      expect(result.diagnostics).toEqual([]);
      for (const [host, text] of result.bundles!) matchGolden(`${example}/${env}/${host}.sh`, text);
      matchGolden(`${example}/${env}/manifest.json`, renderManifest(result.manifest!));
    });
  }

  it("every golden bundle is shellcheck-clean as POSIX sh", () => {
    if (!requireTool("shellcheck")) return;
    const bundles = exampleEnvironments().flatMap(({ example, env }) =>
      readdirSync(join(goldenRoot, example, env))
        .filter((f) => f.endsWith(".sh"))
        .map((f) => join(goldenRoot, example, env, f)),
    );
    expect(bundles.length).toBeGreaterThan(0);
    // Throws with shellcheck's findings on any warning.
    execFileSync("shellcheck", ["-s", "sh", "-S", "style", ...bundles], { encoding: "utf8" });
  });
});

describe("reproducible builds", () => {
  const files = {
    "env/prod.ts": `import { environment, File, Directory, Symlink } from "depc";
export default environment({ hosts: {
  b: [Directory({ path: "/srv" }), File({ path: "/srv/z", content: new Uint8Array([0, 1, 255]) })],
  a: [File({ path: "/srv/a", content: "x\\n" }), Symlink({ path: "/srv/l", target: "a" })],
} });
`,
  };

  it("the same sources give byte-identical bundles, wherever and however they are built", async () => {
    const first = await compileFiles(files);
    const second = await compileFiles(files); // another temp dir: another absolute path
    expect(first.ok).toBe(true);
    expect([...second.bundles!]).toEqual([...first.bundles!]);
    expect(second.manifest).toEqual(first.manifest);
  });

  it("a cached build emits exactly what an uncached one does", async () => {
    const path = exampleEnvironments()[0]!.path;
    const fresh = await compile(path, { cwd: repoRoot, cacheDir: false });
    const cacheDir = join(repoRoot, "node_modules", ".cache", "depc-test-golden");
    await compile(path, { cwd: repoRoot, cacheDir });
    const cached = await compile(path, { cwd: repoRoot, cacheDir });
    expect(cached.cached).toBe(true);
    expect([...cached.bundles!]).toEqual([...fresh.bundles!]);
  });

  it("nothing from the build machine leaks into a bundle", async () => {
    const result = await compileFiles(files);
    for (const text of result.bundles!.values()) {
      expect(text).not.toContain(repoRoot);
      expect(text).not.toContain("/tmp/");
      expect(text).not.toMatch(/20\d\d-\d\d-\d\d/);
    }
  });
});
