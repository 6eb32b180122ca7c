// The CLI commands `depc secrets edit|show|reencrypt|recipients`, registered
// in compiler/cli.ts with one `.command(...)`. Every failure is one line
// `depc: secrets: ...` and exit 1; no message ever holds a secret value.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import type { Argv, CommandModule } from "yargs";
import { locateEnvironment } from "../../compiler/load/locate.js";
import {
  ENV_NAME,
  FINGERPRINT_KEY,
  SecretsError,
  decryptFile,
  encryptText,
  loadIdentities,
  parseSecrets,
  publicKeysOf,
  readRecipients,
  recipientProblem,
  secretsPaths,
  type Identities,
  type SecretsPaths,
} from "../../compiler/secrets/store.js";

export interface SecretsIo {
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Process environment (EDITOR, DEPC_AGE_*, HOME); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

interface Target {
  readonly name: string;
  readonly root: string;
  readonly paths: SecretsPaths;
  /** For messages: paths relative to the current directory. */
  readonly shown: (path: string) => string;
}

/** `prod`, or an environment module (`env/prod`): the secrets are named after the environment. */
function target(argument: string, io: SecretsIo): Target {
  const located = /[/\\]|\.m?ts$/.test(argument) ? locateEnvironment(argument, io.cwd) : undefined;
  // A module path names its environment even before the module exists.
  const name = located?.defaultName ?? (/[/\\]|\.m?ts$/.test(argument) ? basename(argument).replace(/\.m?ts$/, "") : argument);
  if (!ENV_NAME.test(name)) throw new SecretsError(`${JSON.stringify(argument)} is not an environment name (like prod) or an environment module (like env/prod)`);
  const root = located?.projectRoot ?? projectRoot(io.cwd);
  return { name, root, paths: secretsPaths(root, name), shown: (p) => relative(io.cwd, p) || p };
}

function projectRoot(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return resolve(start);
  }
}

/** Writes a file atomically (temp file beside it, then rename). */
function writeAtomic(path: string, text: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, text, { mode });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

function mustExist(t: Target): void {
  if (!existsSync(t.paths.file)) throw new SecretsError(`${t.shown(t.paths.file)} does not exist; create it with: depc secrets edit ${t.name}`);
}

function recipientsFor(t: Target): string[] {
  const recipients = readRecipients(t.paths);
  if (recipients.length === 0) {
    throw new SecretsError(`${t.shown(t.paths.recipients)} lists no recipients: add one with depc secrets recipients add ${t.name} age1...`);
  }
  return recipients;
}

async function encryptTo(t: Target, plaintext: string): Promise<void> {
  parseSecrets(plaintext, t.shown(t.paths.file));
  writeAtomic(t.paths.file, await encryptText(plaintext, recipientsFor(t)), 0o644);
}

// ---- edit ----

async function edit(t: Target, identityFile: string | undefined, from: string | undefined, io: SecretsIo): Promise<number> {
  const env = io.env ?? process.env;
  let identities: Identities | undefined;
  let original: string;
  if (existsSync(t.paths.file)) {
    identities = loadIdentities({ identityFile, env, cwd: io.cwd });
    original = await decryptFile(t.paths.file, identities);
  } else {
    original = `{\n  ${JSON.stringify(FINGERPRINT_KEY)}: ${JSON.stringify(randomBytes(32).toString("hex"))}\n}\n`;
    if (readRecipients(t.paths).length === 0) {
      // A new environment: its first recipient is the editor's own key.
      identities = loadIdentities({ identityFile, env, cwd: io.cwd });
      const [mine] = await publicKeysOf(identities);
      writeAtomic(t.paths.recipients, `# age recipients of ${t.shown(t.paths.file)} (one public key per line; see docs/secrets.md)\n${mine}\n`, 0o644);
      io.stderr(`depc: secrets: created ${t.shown(t.paths.recipients)} with your public key ${mine}\n`);
    }
  }
  // Private: a 0700 directory of our own, a 0600 file in it.
  const dir = mkdtempSync(join(env.TMPDIR ?? tmpdir(), "depc-secrets-"));
  chmodSync(dir, 0o700);
  const file = join(dir, `${t.name}.json`);
  let initial = original;
  if (from !== undefined) {
    try {
      initial = readFileSync(resolve(io.cwd, from), "utf8");
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw new SecretsError(`cannot read ${from}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  writeFileSync(file, initial, { mode: 0o600 });
  const editor = env.VISUAL || env.EDITOR || "vi";
  // Like git: the editor setting is a shell command line of the user's own (it may hold arguments).
  const ran = spawnSync("sh", ["-c", `${editor} "$1"`, "sh", file], { stdio: "inherit", env });
  if (ran.error !== undefined || ran.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    io.stderr(`depc: secrets: the editor (${editor}) failed (${ran.error?.message ?? `exit ${ran.status ?? ran.signal}`}); nothing was changed\n`);
    return 1;
  }
  const edited = readFileSync(file, "utf8");
  if (edited === original && existsSync(t.paths.file)) {
    rmSync(dir, { recursive: true, force: true });
    io.stderr(`depc: secrets: no changes; ${t.shown(t.paths.file)} is as it was\n`);
    return 0;
  }
  try {
    await encryptTo(t, edited);
  } catch (error) {
    const reason = error instanceof SecretsError ? error.message : `${(error as Error).message ?? String(error)}`;
    io.stderr(
      `depc: secrets: ${t.shown(t.paths.file)} was NOT changed: ${reason}\n` +
        `depc: secrets: your edits are kept in ${file} (private to you); fix them and run: depc secrets edit ${t.name} --from ${file}\n` +
        `depc: secrets: then delete that directory: rm -r ${dir}\n`,
    );
    return 1;
  }
  rmSync(dir, { recursive: true, force: true });
  const count = [...parseSecrets(edited, t.paths.file).keys()].filter((k) => k !== FINGERPRINT_KEY).length;
  io.stderr(`depc: secrets: wrote ${t.shown(t.paths.file)}: ${count} secret${count === 1 ? "" : "s"} for ${readRecipients(t.paths).length} recipient(s)\n`);
  return 0;
}

// ---- the other commands ----

async function show(t: Target, key: string | undefined, identityFile: string | undefined, io: SecretsIo): Promise<number> {
  mustExist(t);
  const text = await decryptFile(t.paths.file, loadIdentities({ identityFile, env: io.env, cwd: io.cwd }));
  if (key === undefined) {
    io.stdout(text.endsWith("\n") ? text : `${text}\n`);
    return 0;
  }
  const values = parseSecrets(text, t.shown(t.paths.file));
  const value = values.get(key);
  if (value === undefined) {
    const known = [...values.keys()].filter((k) => k !== FINGERPRINT_KEY).sort().join(", ") || "none";
    throw new SecretsError(`${t.shown(t.paths.file)} has no secret ${JSON.stringify(key)}. Its keys: ${known}`);
  }
  io.stdout(`${value}\n`);
  return 0;
}

async function reencrypt(t: Target, identityFile: string | undefined, io: SecretsIo): Promise<number> {
  mustExist(t);
  const text = await decryptFile(t.paths.file, loadIdentities({ identityFile, env: io.env, cwd: io.cwd }));
  await encryptTo(t, text);
  io.stderr(`depc: secrets: re-encrypted ${t.shown(t.paths.file)} for ${readRecipients(t.paths).length} recipient(s)\n`);
  return 0;
}

async function recipients(action: string, t: Target, keys: readonly string[], identityFile: string | undefined, io: SecretsIo): Promise<number> {
  const current = readRecipients(t.paths);
  if (action === "list") {
    for (const r of current) io.stdout(`${r}\n`);
    return 0;
  }
  if (keys.length === 0) throw new SecretsError(`give the public key(s) to ${action}: depc secrets recipients ${action} ${t.name} age1...`);
  for (const k of keys) {
    const problem = recipientProblem(k);
    if (problem !== undefined) throw new SecretsError(problem);
  }
  const existing = existsSync(t.paths.recipients) ? readFileSync(t.paths.recipients, "utf8") : `# age recipients of ${t.shown(t.paths.file)} (one public key per line; see docs/secrets.md)\n`;
  let text: string;
  if (action === "add") {
    const fresh = keys.filter((k, i) => !current.includes(k) && keys.indexOf(k) === i);
    if (fresh.length === 0) {
      io.stderr(`depc: secrets: already recipients of ${t.shown(t.paths.file)}; nothing to do\n`);
      return 0;
    }
    text = `${existing}${existing.endsWith("\n") || existing === "" ? "" : "\n"}${fresh.join("\n")}\n`;
  } else {
    const missing = keys.filter((k) => !current.includes(k));
    if (missing.length > 0) throw new SecretsError(`not a recipient of ${t.shown(t.paths.file)}: ${missing.join(", ")}`);
    if (current.every((r) => keys.includes(r))) throw new SecretsError(`that would leave ${t.shown(t.paths.file)} without recipients; add another first`);
    text = existing
      .split("\n")
      .filter((line) => !keys.includes(line.trim()))
      .join("\n");
  }
  // Re-encrypt before the list changes, so a failure (a wrong identity) changes nothing.
  if (existsSync(t.paths.file)) {
    const plaintext = await decryptFile(t.paths.file, loadIdentities({ identityFile, env: io.env, cwd: io.cwd }));
    const next = text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    const encrypted = await encryptText(plaintext, next);
    writeAtomic(t.paths.recipients, text, 0o644);
    writeAtomic(t.paths.file, encrypted, 0o644);
    io.stderr(`depc: secrets: ${action === "add" ? "added" : "removed"} ${keys.length} recipient(s); re-encrypted ${t.shown(t.paths.file)}\n`);
    if (action === "remove") {
      io.stderr("depc: secrets: a removed key can still decrypt the old versions in your repository's history: change the secrets it could read.\n");
    }
  } else {
    writeAtomic(t.paths.recipients, text, 0o644);
    io.stderr(`depc: secrets: ${action === "add" ? "added" : "removed"} ${keys.length} recipient(s) in ${t.shown(t.paths.recipients)}\n`);
  }
  return 0;
}

interface SecretsArgs {
  action: string;
  env?: string;
  rest: string[];
  identity?: string;
  from?: string;
}

/** `depc secrets <action> <env> ...`, one yargs command module. */
export function secretsCommand(io: SecretsIo, setExit: (code: number) => void): CommandModule<object, SecretsArgs> {
  return {
    command: "secrets <action> [env] [rest..]",
    describe: "Encrypted secrets (secrets/<env>.age): edit <env>, show <env> [key], reencrypt <env>, recipients list|add|remove <env> [key..]",
    builder: (y: Argv<object>) =>
      y
        .positional("action", { type: "string", choices: ["edit", "show", "reencrypt", "recipients"], demandOption: true, describe: "What to do" })
        .positional("env", { type: "string", describe: "Environment name (prod) or module (env/prod)" })
        .positional("rest", { type: "string", array: true, default: [] as string[] })
        .option("identity", { alias: "i", type: "string", describe: "age identity file", defaultDescription: "$DEPC_AGE_KEY, $DEPC_AGE_IDENTITY, or ~/.config/depc/age.key" })
        .option("from", { type: "string", describe: "edit: start from this plaintext file (e.g. kept edits) instead of the current secrets" })
        .epilogue("Exit codes: 0 done, 1 an error (printed; nothing was changed).") as unknown as Argv<SecretsArgs>,
    handler: async (args) => {
      setExit(await runSecrets(args, io));
    },
  };
}

export async function runSecrets(args: SecretsArgs, io: SecretsIo): Promise<number> {
  try {
    let rest = args.rest ?? [];
    let action = args.action;
    let envArg = args.env;
    if (action === "recipients") {
      // recipients <list|add|remove> <env> [key..]
      const sub = envArg;
      if (sub !== "list" && sub !== "add" && sub !== "remove") throw new SecretsError("recipients needs list, add or remove: depc secrets recipients add <env> age1...");
      action = sub;
      envArg = rest[0];
      rest = rest.slice(1);
    }
    if (envArg === undefined) throw new SecretsError(`give the environment: depc secrets ${args.action} <env>`);
    const t = target(envArg, io);
    switch (action) {
      case "edit":
        if (rest.length > 0) throw new SecretsError("edit takes only the environment");
        return await edit(t, args.identity, args.from, io);
      case "show":
        if (rest.length > 1) throw new SecretsError("show takes the environment and at most one key");
        return await show(t, rest[0], args.identity, io);
      case "reencrypt":
        return await reencrypt(t, args.identity, io);
      default:
        return await recipients(action, t, rest, args.identity, io);
    }
  } catch (error) {
    if (!(error instanceof SecretsError)) throw error;
    io.stderr(`depc: secrets: ${error.message}\n`);
    return 1;
  }
}
