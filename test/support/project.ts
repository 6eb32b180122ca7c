import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compile, type CompileResult } from "../../compiler/build.js";
import { formatDiagnostics } from "../../compiler/diagnostics/format.js";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * A deployment project in a temp dir, shaped like a user's: its own
 * package.json and `node_modules/depc` (a link to this repository), so
 * `import { File } from "depc"` resolves as it does after `npm install depc`.
 */
export function makeProject(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "depc-project-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "fixture", private: true, type: "module" }));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(repoRoot, join(dir, "node_modules", "depc"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Compiles `env` of a one-off project and returns the result with its printed diagnostics. */
export async function compileFiles(
  files: Record<string, string>,
  env = "env/prod",
): Promise<CompileResult & { printed: string }> {
  const project = makeProject(files);
  try {
    const result = await compile(env, { cwd: project.dir, cacheDir: false });
    const printed = formatDiagnostics(result.diagnostics, { color: false, cwd: project.dir, sources: result.sources });
    return { ...result, printed };
  } finally {
    project.cleanup();
  }
}
