import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/build.js";
import { modelTsconfigOptions } from "../../compiler/load/model-options.js";
import { exampleEnvironments } from "../support/golden.js";
import { repoRoot } from "../support/project.js";

// What an editor (or `tsc --noEmit`) says about the examples is what
// `depc check` says: examples/tsconfig.json holds depc's own options, and
// both accept every example.

describe("the examples type-check the same with tsc and with depc", () => {
  it("examples/tsconfig.json has exactly depc's compiler options", () => {
    expect(JSON.parse(readFileSync(join(repoRoot, "examples/tsconfig.json"), "utf8")).compilerOptions).toEqual(modelTsconfigOptions);
  });

  it("tsc --noEmit -p examples reports nothing", () => {
    const tsc = createRequire(join(repoRoot, "package.json")).resolve("typescript/bin/tsc");
    const r = spawnSync(process.execPath, [tsc, "--noEmit", "-p", "examples"], { cwd: repoRoot, encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  for (const { path } of exampleEnvironments()) {
    it(`depc check ${path} reports nothing`, async () => {
      const result = await compile(path, { cwd: repoRoot, cacheDir: false, placeholderSecrets: true });
      expect(result.diagnostics).toEqual([]);
      expect(result.ok).toBe(true);
    });
  }
});
