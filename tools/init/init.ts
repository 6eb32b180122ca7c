import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Io } from "../../compiler/cli.js";
import { shownPath } from "../../compiler/diagnostics/format.js";
import { shellWord } from "../../compiler/emit/quote.js";
import { depcVersion, packageRoot } from "../../compiler/package-info.js";
import { executableFiles, templateFiles } from "./template.js";

/**
 * Whether depc can be installed by name from a package registry. Until it
 * can, `depc init` vendors it: `npm pack` of this very installation into
 * the project's `vendor/`, and a `file:` dependency on that tarball, so
 * the new project installs with nothing but `npm install`.
 */
export const PUBLISHED = false;

/** Where `depc init` puts depc's package file, relative to the project. */
export const vendoredTarball = `vendor/depc-${depcVersion}.tgz`;

/** `depc init [dir]`: start a deployment project. */
export interface InitArgs {
  /** Where to create it; the current directory when not given. */
  readonly dir?: string | undefined;
  /** Package name; derived from the directory's name when not given. */
  readonly name?: string | undefined;
  /** The `depc` dependency in package.json; when not given, depc is vendored (see PUBLISHED). */
  readonly depcSpec?: string | undefined;
}

const NAME = /^[a-z0-9][a-z0-9._-]*$/;

/** A package name from a directory name: `My App!` → `my-app`. */
export function projectName(dirName: string): string {
  const name = dirName
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+/, "")
    .replace(/-+$/, "")
    .slice(0, 214);
  return name === "" ? "deployment" : name;
}

/**
 * Writes the project's files. Nothing is overwritten: when any of them
 * exists, nothing is written at all and the error names them.
 */
export function initCommand(args: InitArgs, io: Io): number {
  const root = resolve(io.cwd, args.dir ?? ".");
  const shown = shownPath(io.cwd, root);
  const name = args.name ?? projectName(basename(root));
  if (!NAME.test(name) || name.length > 214) {
    io.stderr(`depc: --name ${JSON.stringify(name)} is not a usable package name: use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit.\n`);
    return 1;
  }
  const vendor = args.depcSpec === undefined && !PUBLISHED;
  const depcSpec = args.depcSpec ?? (vendor ? `file:${vendoredTarball}` : `^${depcVersion}`);
  const files = templateFiles({ name, depcSpec, devDependencies: devDependencies() });

  const existing = [...files.keys(), ...(vendor ? [vendoredTarball] : [])].filter((file) => exists(join(root, file)));
  if (existing.length > 0) {
    io.stderr(
      `depc: ${shown} already has ${existing.join(", ")}; init overwrites nothing.\n` +
        "Nothing was written. Choose an empty directory: depc init <dir>\n",
    );
    return 1;
  }
  if (exists(root) && !isDirectory(root)) {
    io.stderr(`depc: ${shown} exists and is not a directory. Nothing was written.\n`);
    return 1;
  }

  const written: string[] = [];
  if (vendor) {
    const packed = pack(join(root, "vendor"));
    if (packed !== undefined) {
      io.stderr(`depc: cannot put depc into ${shown}/vendor: ${packed}\nNothing else was written. Give --depc-spec to depend on depc another way (e.g. file:/path/to/a/clone).\n`);
      return 1;
    }
    written.push(vendoredTarball);
  }
  try {
    for (const [file, text] of files) {
      const path = join(root, file);
      mkdirSync(dirname(path), { recursive: true });
      // "wx": fail rather than overwrite a file that appeared since the check.
      writeFileSync(path, text, { flag: "wx", ...(executableFiles.has(file) ? { mode: 0o755 } : {}) });
      if (executableFiles.has(file)) chmodSync(path, 0o755);
      written.push(file);
    }
  } catch (error) {
    io.stderr(`depc: cannot write ${shown}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` + (written.length > 0 ? ` (already written: ${written.join(", ")})` : "") + "\n");
    return 1;
  }

  io.stdout(`depc: created ${name} in ${shown}\n`);
  // The project's own files first, depc's package file last.
  for (const file of [...written.filter((f) => f !== vendoredTarball), ...written.filter((f) => f === vendoredTarball)]) io.stdout(`  ${file}\n`);
  io.stdout("\nNext:\n");
  if (shown !== ".") io.stdout(`  cd ${shellWord(shown)}\n`);
  io.stdout("  npm install\n  ./depc build env/dev\n  npx tsc --noEmit\n  npm run check\n  sh build/dev/localhost.sh --check\n");
  return 0;
}

/** typescript (the version depc checks models with) and Node's declarations, as depc's own package.json has them. */
function devDependencies(): Record<string, string> {
  const own = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  return {
    "@types/node": own.devDependencies?.["@types/node"] ?? "^20.19.0",
    typescript: own.dependencies?.typescript ?? "~6.0.3",
  };
}

/**
 * `npm pack` of this installation of depc (a clone with dist/ built, or an
 * installed copy) into `dir`. The scripts are skipped: dist/ is what runs
 * this very command, so it is built. Returns why it failed, if it did.
 */
function pack(dir: string): string | undefined {
  if (!existsSync(join(packageRoot, "dist", "compiler", "cli.js"))) return `${packageRoot} has no dist/: run npm install there first`;
  const created = !exists(dir);
  mkdirSync(dir, { recursive: true });
  // Run by npm (npx depc init), npm_execpath is the npm that ran it.
  const npmCli = process.env.npm_execpath;
  const [command, prefix] = npmCli !== undefined && /npm-cli\.[cm]?js$/.test(npmCli) ? [process.execPath, [npmCli]] : ["npm", []];
  const r = spawnSync(command, [...prefix, "pack", "--ignore-scripts", "--silent", "--pack-destination", dir], {
    cwd: packageRoot,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const file = join(dir, basename(vendoredTarball));
  if (r.status === 0 && existsSync(file)) return undefined;
  if (created) rmSync(dir, { recursive: true, force: true });
  if (r.error !== undefined) return `cannot run npm pack: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`;
  const output = `${r.stderr}${r.stdout}`.trim().split("\n").slice(-5).join("\n");
  return `npm pack failed (exit ${r.status ?? r.signal})${output === "" ? "" : `:\n${output}`}`;
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
