import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createTwoFilesPatch } from "diff";
import { repoRoot } from "./project.js";

/** `UPDATE_SNAPSHOTS=1 npm test` rewrites golden files; review them with `git diff`. */
export const updating = process.env.UPDATE_SNAPSHOTS === "1";

export const goldenRoot = join(repoRoot, "test", "golden");

/** Every example environment: `examples/<name>/env/<env>.ts`. */
export function exampleEnvironments(): { example: string; env: string; path: string }[] {
  const out: { example: string; env: string; path: string }[] = [];
  for (const example of readdirSync(join(repoRoot, "examples")).sort()) {
    const envDir = join(repoRoot, "examples", example, "env");
    if (!existsSync(envDir)) continue;
    for (const file of readdirSync(envDir).sort()) {
      if (file.endsWith(".ts")) out.push({ example, env: file.slice(0, -3), path: `examples/${example}/env/${file}` });
    }
  }
  return out;
}

/**
 * Compares `actual` with the committed golden file (or writes it when
 * updating). A mismatch fails with a unified diff of the two.
 */
export function matchGolden(relativePath: string, actual: string): void {
  const file = join(goldenRoot, relativePath);
  if (updating) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`golden file ${relativePath} is missing: run UPDATE_SNAPSHOTS=1 npm test and review it`);
  const expected = readFileSync(file, "utf8");
  if (expected !== actual) {
    const patch = createTwoFilesPatch(`golden/${relativePath}`, "built", expected, actual, "", "", { context: 3 });
    throw new Error(`${relativePath} differs from its golden file (UPDATE_SNAPSHOTS=1 to accept after review):\n${patch}`);
  }
}
