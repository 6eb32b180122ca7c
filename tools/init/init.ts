import { lstatSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import type { Io } from "../../compiler/cli.js";
import { shellWord } from "../../compiler/emit/quote.js";
import { depcVersion } from "../../compiler/package-info.js";
import { templateFiles } from "./template.js";

/** `depc init [dir]`: start a deployment project. */
export interface InitArgs {
  /** Where to create it; the current directory when not given. */
  readonly dir?: string | undefined;
  /** Package name; derived from the directory's name when not given. */
  readonly name?: string | undefined;
  /** The `depc` dependency in package.json; `^<this version>` when not given. */
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
  const shown = relative(io.cwd, root) || ".";
  const name = args.name ?? projectName(basename(root));
  if (!NAME.test(name) || name.length > 214) {
    io.stderr(`depc: --name ${JSON.stringify(name)} is not a usable package name: use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit.\n`);
    return 1;
  }
  const depcSpec = args.depcSpec ?? `^${depcVersion}`;
  const files = templateFiles({ name, depcSpec });

  const existing = [...files.keys()].filter((file) => exists(join(root, file)));
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
  try {
    for (const [file, text] of files) {
      const path = join(root, file);
      mkdirSync(dirname(path), { recursive: true });
      // "wx": fail rather than overwrite a file that appeared since the check.
      writeFileSync(path, text, { flag: "wx" });
      written.push(file);
    }
  } catch (error) {
    io.stderr(`depc: cannot write ${shown}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` + (written.length > 0 ? ` (already written: ${written.join(", ")})` : "") + "\n");
    return 1;
  }

  io.stdout(`depc: created ${name} in ${shown}\n`);
  for (const file of written) io.stdout(`  ${file}\n`);
  io.stdout("\nNext:\n");
  if (shown !== ".") io.stdout(`  cd ${shellWord(shown)}\n`);
  io.stdout("  npm install\n  npx depc build env/dev\n  sh build/dev/localhost.sh --check\n");
  return 0;
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
