import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/build.js";
import { renderManifest, type Manifest } from "../../compiler/emit/manifest.js";
import { parseRuntime, runtimeFunctions } from "../../compiler/emit/runtime.js";
import {
  exampleEnvironments,
  joinBundle,
  matchGolden,
  parseRuntimeGolden,
  readGolden,
  renderRuntimeGolden,
  RUNTIME_GOLDEN,
  splitBundle,
} from "../support/golden.js";
import { compileFiles, repoRoot } from "../support/project.js";
import { requireTool } from "../support/shells.js";

// Golden bundles are kept without their runtime: each test/golden/<example>/<env>/<host>.sh
// has the list of runtime functions it carries where their text would be, and
// test/golden/runtime.sh holds those functions once. A change to one runtime
// function so rewrites runtime.sh only; the whole bundles are still checked byte
// for byte (joined again) and shellchecked. See test/golden/README.md.
interface Built {
  readonly example: string;
  readonly env: string;
  readonly bundles: ReadonlyMap<string, string>;
  readonly manifest: Manifest;
}

let built: Promise<Built[]> | undefined;
/** Every example environment, compiled once for all the tests below. */
function buildExamples(): Promise<Built[]> {
  built ??= Promise.all(
    exampleEnvironments().map(async ({ example, env, path }) => {
      // Secrets as placeholders: the goldens need no key, and hold no secret (examples/django uses two).
      const result = await compile(path, { cwd: repoRoot, cacheDir: false, placeholderSecrets: true });
      expect(result.diagnostics).toEqual([]);
      return { example, env, bundles: result.bundles!, manifest: result.manifest! };
    }),
  );
  return built;
}

/** The manifest as committed: bundle digests stand for "the sha256 of the bundle" (checked separately). */
function goldenManifest(manifest: Manifest): string {
  return renderManifest({ ...manifest, hosts: manifest.hosts.map((h) => ({ ...h, digest: `sha256 of ${h.bundle}` })) });
}

describe("golden bundles of the examples", () => {
  for (const { example, env, path } of exampleEnvironments()) {
    it(`${path} builds to its golden bundles`, async () => {
      const { bundles, manifest } = (await buildExamples()).find((b) => b.example === example && b.env === env)!;
      for (const [host, text] of bundles) matchGolden(`${example}/${env}/${host}.sh`, splitBundle(text).skeleton);
      matchGolden(`${example}/${env}/manifest.json`, goldenManifest(manifest));
      for (const h of manifest.hosts) expect(h.digest).toBe(`sha256:${createHash("sha256").update(bundles.get(h.name)!).digest("hex")}`);
    });
  }

  it("the runtime functions the golden bundles carry are test/golden/runtime.sh", async () => {
    const carried = new Set<string>();
    for (const { bundles } of await buildExamples()) for (const text of bundles.values()) for (const f of splitBundle(text).functions) carried.add(f.name);
    matchGolden(RUNTIME_GOLDEN, renderRuntimeGolden(runtimeFunctions().filter((f) => carried.has(f.name))));
  });

  it("the golden files join into the whole bundles, byte for byte, and those are shellcheck-clean as POSIX sh", async () => {
    const runtime = parseRuntimeGolden(readGolden(RUNTIME_GOLDEN) ?? "");
    const dir = mkdtempSync(join(tmpdir(), "depc-golden-"));
    try {
      const files: string[] = [];
      for (const { example, env, bundles } of await buildExamples()) {
        for (const [host, text] of bundles) {
          const joined = joinBundle(readGolden(`${example}/${env}/${host}.sh`) ?? "", runtime);
          expect(joined === text, `${example}/${env}/${host}.sh joined with runtime.sh is not the bundle`).toBe(true);
          files.push(join(dir, `${example}-${env}-${host}.sh`));
          writeFileSync(files.at(-1)!, joined);
        }
      }
      expect(files.length).toBeGreaterThan(0);
      if (!requireTool("shellcheck")) return;
      // Throws with shellcheck's findings on any warning.
      execFileSync("shellcheck", ["-s", "sh", "-S", "style", ...files], { encoding: "utf8" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a golden bundle names its runtime functions instead of holding them, and joins back exactly", () => {
    const all = parseRuntime([{ name: "t.sh", text: "# a\ndepc_a() {\n  depc_b\n}\n\ndepc_b() {\n  :\n}\n\ndepc_c() {\n  :\n}\n" }]);
    const bundle = "#!/bin/sh\n{\ndepc_x() {\n  :\n}\n\n# a\ndepc_a() {\n  depc_b\n}\n\ndepc_b() {\n  :\n}\n\ndepc_a \"$@\"\n}\n";
    const { skeleton, functions } = splitBundle(bundle, all);
    expect(skeleton).toBe(
      "#!/bin/sh\n{\ndepc_x() {\n  :\n}\n\n#@golden runtime functions, kept once in test/golden/runtime.sh:\n#@ depc_a\n#@ depc_b\n#@golden end\n\ndepc_a \"$@\"\n}\n",
    );
    expect(functions.map((f) => f.name)).toEqual(["depc_a", "depc_b"]);
    expect(joinBundle(skeleton, parseRuntimeGolden(renderRuntimeGolden(all)))).toBe(bundle);
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
    // The first example may use secrets (examples/django): placeholders, as for the goldens.
    const fresh = await compile(path, { cwd: repoRoot, cacheDir: false, placeholderSecrets: true });
    const cacheDir = join(repoRoot, "node_modules", ".cache", "depc-test-golden");
    await compile(path, { cwd: repoRoot, cacheDir, placeholderSecrets: true });
    const cached = await compile(path, { cwd: repoRoot, cacheDir, placeholderSecrets: true });
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
