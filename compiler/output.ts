import { chmodSync, closeSync, constants, existsSync, fstatSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { diagnostic, type Diagnostic } from "./diagnostics/diagnostic.js";
import { renderManifest, type LeftHost, type Manifest } from "./emit/manifest.js";

/**
 * Writes a build so that the output directory always holds one whole
 * build: everything goes to a fresh sibling directory first, which then
 * replaces the old one. A failed write leaves the previous build in place.
 * Only an empty directory or an earlier build is ever replaced: `--out .`
 * must not delete a project.
 *
 * A file whose bytes and mode are already there is not written again: when
 * nothing changed, nothing is written at all; otherwise the new directory
 * gets a hard link to the unchanged file. Either way an unchanged bundle
 * keeps its inode and mtime (tools that watch build/, rsync, make), and a
 * rebuild of 1,000 hosts does not write 1,000 files to change one.
 *
 * A bundle is its text, or its bytes in parts written one after the other
 * (CompileResult.bundleBytes: the parts of many bundles are one shared buffer).
 */
export function writeBuild(outDir: string, bundles: ReadonlyMap<string, string | readonly Uint8Array[]>, manifest: Manifest): Diagnostic | undefined {
  const problem = notReplaceable(outDir);
  if (problem !== undefined) return diagnostic("outputNotABuild", { path: outDir, problem });
  const files = new Map<string, { parts: readonly Uint8Array[]; mode: number }>();
  const secret = new Set(manifest.hosts.filter((h) => h.secrets === true).map((h) => h.name));
  for (const [host, text] of bundles) {
    // A bundle with secrets is private from its first byte (run it with `sh`).
    const mode = secret.has(host) ? 0o600 : 0o700;
    files.set(`${host}.sh`, { parts: typeof text === "string" ? [Buffer.from(text, "utf8")] : text, mode });
  }
  files.set("manifest.json", { parts: [Buffer.from(renderManifest(manifest), "utf8")], mode: 0o644 });
  const unchanged = unchangedFiles(outDir, files);
  if (unchanged.size === files.size && sameEntries(outDir, files) && hasMode(outDir, 0o755)) return undefined;
  const parent = dirname(outDir);
  let staging: string | undefined;
  try {
    mkdirSync(parent, { recursive: true });
    staging = mkdtempSync(join(parent, `.${basename(outDir)}.tmp-`));
    for (const [name, { parts, mode }] of files) {
      const file = join(staging, name);
      if (unchanged.has(name) && linked(join(outDir, name), file)) continue;
      writeFileSync(file, "", { mode });
      chmodSync(file, mode);
      writeFileSync(file, parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    }
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
 * The names of `files` that `dir` already holds as regular files with the
 * same bytes, mode and owner (a file another user owns is written anew, as
 * ours). Sizes are compared first: a changed bundle is rarely read.
 */
function unchangedFiles(dir: string, files: ReadonlyMap<string, { parts: readonly Uint8Array[]; mode: number }>): Set<string> {
  const same = new Set<string>();
  const uid = process.getuid?.();
  // One buffer for every file read (a large build compares 1,000 bundles of ~150 KB).
  let scratch = Buffer.alloc(0);
  for (const [name, { parts, mode }] of files) {
    let fd: number | undefined;
    try {
      // O_NOFOLLOW: a symbolic link is not the file (it is replaced by one); O_NONBLOCK: a FIFO does not hang the build.
      fd = openSync(join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      const stat = fstatSync(fd);
      if (!stat.isFile() || (stat.mode & 0o7777) !== mode || (uid !== undefined && stat.uid !== uid)) continue;
      const size = parts.reduce((sum, part) => sum + part.length, 0);
      if (stat.size !== size) continue;
      if (scratch.length < size) scratch = Buffer.alloc(Math.max(size, scratch.length * 2));
      let read = 0;
      while (read < size) {
        const n = readSync(fd, scratch, read, size - read, null);
        if (n === 0) break;
        read += n;
      }
      if (read !== size) continue;
      let offset = 0;
      if (!parts.every((part) => scratch.subarray(offset, (offset += part.length)).equals(part))) continue;
      same.add(name);
    } catch {
      // Missing, a link or unreadable: written anew.
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return same;
}

/** Whether `dir` holds exactly the names of `files`. */
function sameEntries(dir: string, files: ReadonlyMap<string, unknown>): boolean {
  try {
    const entries = readdirSync(dir);
    return entries.length === files.size && entries.every((name) => files.has(name));
  } catch {
    return false;
  }
}

function hasMode(path: string, mode: number): boolean {
  try {
    return (statSync(path).mode & 0o7777) === mode;
  } catch {
    return false;
  }
}

/** A hard link of an unchanged file into the new build; false when the file system has none (then it is written). */
function linked(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch {
    return false;
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
