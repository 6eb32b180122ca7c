import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { diagnostic, type Diagnostic } from "./diagnostics/diagnostic.js";
import { renderManifest, type LeftHost, type Manifest } from "./emit/manifest.js";

/**
 * Writes a build so that the output directory always holds one whole
 * build: everything goes to a fresh sibling directory first, which then
 * replaces the old one. A failed write leaves the previous build in place.
 * Only an empty directory or an earlier build is ever replaced: `--out .`
 * must not delete a project.
 */
export function writeBuild(outDir: string, bundles: ReadonlyMap<string, string>, manifest: Manifest): Diagnostic | undefined {
  const problem = notReplaceable(outDir);
  if (problem !== undefined) return diagnostic("outputNotABuild", { path: outDir, problem });
  const parent = dirname(outDir);
  let staging: string | undefined;
  try {
    mkdirSync(parent, { recursive: true });
    staging = mkdtempSync(join(parent, `.${basename(outDir)}.tmp-`));
    for (const [host, text] of bundles) {
      const file = join(staging, `${host}.sh`);
      // A bundle with secrets is private from its first byte (run it with `sh`).
      const mode = manifest.hosts.some((h) => h.name === host && h.secrets === true) ? 0o600 : 0o700;
      writeFileSync(file, "", { mode });
      chmodSync(file, mode);
      writeFileSync(file, text);
    }
    writeFileSync(join(staging, "manifest.json"), renderManifest(manifest), { mode: 0o644 });
    chmodSync(staging, 0o755);
    const old = existsSync(outDir) ? `${staging}.old` : undefined;
    if (old !== undefined) renameSync(outDir, old);
    renameSync(staging, outDir);
    staging = undefined;
    if (old !== undefined) rmSync(old, { recursive: true, force: true });
    return undefined;
  } catch (error) {
    if (staging !== undefined) rmSync(staging, { recursive: true, force: true });
    const reason = (error as NodeJS.ErrnoException).message ?? String(error);
    return diagnostic("outputNotWritable", { path: outDir, reason });
  }
}

/**
 * Why `dir` must not be replaced by a build, or undefined when it may: it
 * does not exist, is an empty directory, or holds exactly an earlier build
 * (a depc manifest.json and the bundles it lists, nothing else).
 */
function notReplaceable(dir: string): string | undefined {
  let entries: string[];
  try {
    const stat = lstatSync(dir);
    // A link would be replaced by a directory, its target left behind: name the target instead.
    if (stat.isSymbolicLink()) return "is a symbolic link (give the directory it points to)";
    if (!stat.isDirectory()) return "is not a directory";
    entries = readdirSync(dir).sort();
  } catch {
    // Missing: nothing to replace. Anything else is reported by the write itself.
    return undefined;
  }
  if (entries.length === 0) return undefined;
  if (!entries.includes("manifest.json")) {
    const shown = entries.length <= 3 ? listed(entries) : `${entries.slice(0, 3).join(", ")} and ${entries.length - 3} more`;
    return `holds ${shown} but no manifest.json`;
  }
  let bundles: Set<string>;
  try {
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Partial<Manifest>;
    if (typeof manifest.depc !== "string" || !Array.isArray(manifest.hosts)) throw new Error("not a build");
    bundles = new Set(manifest.hosts.map((h) => h?.bundle).filter((b): b is string => typeof b === "string"));
  } catch {
    return "holds a manifest.json that is not a depc build's";
  }
  const foreign = entries.filter((name) => name !== "manifest.json" && !bundles.has(name));
  if (foreign.length > 0) return `holds ${listed(foreign.slice(0, 3))}${foreign.length > 3 ? " and more" : ""}, which ${foreign.length === 1 ? "is" : "are"} not part of the build its manifest.json describes`;
  return undefined;
}

const listed = (names: readonly string[]) => (names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`);

/**
 * The manifest to write to `outDir`, with `left`: the hosts of earlier
 * builds in this directory (their `hosts` and `left`) that this build no
 * longer has. `depc deploy` leaves them alone and says so; `depc
 * decommission` removes what depc put there. A host back in the model is no
 * longer "left". Another environment's or an unreadable manifest counts as
 * no earlier build.
 */
export function withLeftHosts(outDir: string, manifest: Manifest): Manifest {
  let previous: Partial<Manifest> | undefined;
  try {
    previous = JSON.parse(readFileSync(join(outDir, "manifest.json"), "utf8")) as Partial<Manifest>;
  } catch {
    return manifest;
  }
  if (previous?.environment !== manifest.environment) return manifest;
  const current = new Set(manifest.hosts.map((h) => h.name));
  const left = new Map<string, LeftHost>();
  for (const h of [...(Array.isArray(previous.left) ? previous.left : []), ...(Array.isArray(previous.hosts) ? previous.hosts : [])]) {
    if (typeof h?.name !== "string" || typeof h.address !== "string" || current.has(h.name)) continue;
    left.set(h.name, { name: h.name, address: h.address, ...(h.user !== undefined ? { user: h.user } : {}), ...(h.port !== undefined ? { port: h.port } : {}) });
  }
  return left.size > 0 ? { ...manifest, left: [...left.values()].sort((a, b) => (a.name < b.name ? -1 : 1)) } : manifest;
}
