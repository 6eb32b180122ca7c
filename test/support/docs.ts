import { readFileSync } from "node:fs";
import { join } from "node:path";
import { kinds } from "../../kinds/registry.js";
import { repoRoot } from "./project.js";

const INTRO = `# Resources

<!-- Assembled from kinds/<kind>/README.md, one section per kind folder, by
test/compiler/kinds.test.ts (UPDATE_SNAPSHOTS=1 rewrites it): edit those. -->

What each resource you import from \`depc\` does on a host, what it reports, and what
it refuses at build time. Every option also carries its documentation and default in
your editor (TSDoc). One section per resource; sections are added as resources are.
`;

/** docs/resources.md as it must be: the intro, then each kind folder's README.md in registry order. */
export function resourcesPage(): string {
  const folders = [...new Set(kinds.map((k) => k.folder))];
  const sections = folders.map((folder) => readFileSync(join(repoRoot, "kinds", folder, "README.md"), "utf8").replace(/\]\(\.\.\/\.\.\/docs\//g, "]("));
  return [INTRO, ...sections].join("\n");
}
