/** Helpers of the secrets tests: real age keys, real age files, projects that use them. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll } from "vitest";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { compile } from "../../compiler/build.js";
import { main, type Io } from "../../compiler/cli.js";
import { formatDiagnostics } from "../../compiler/diagnostics/format.js";
import { encryptText } from "../../compiler/secrets/store.js";
import { makeProject } from "../support/project.js";
import { requireTool } from "../support/shells.js";

const cleanups: (() => void)[] = [];
afterAll(() => {
  if (process.env.DEPC_KEEP_TMP === "1") return;
  for (const c of cleanups) c();
});

export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `depc-secrets-${label}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Key {
  readonly identity: string;
  readonly recipient: string;
  /** A key file as age-keygen writes it. */
  readonly file: string;
}

/** A fresh X25519 key made here, written as an age key file. */
export async function makeKey(dir: string, name = "key"): Promise<Key> {
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const file = join(dir, `${name}.txt`);
  writeFileSync(file, `# created: by the test\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
  return { identity, recipient, file };
}

/** A key made by the age CLI's age-keygen. */
export function makeCliKey(dir: string, name = "cli-key"): Key {
  const file = join(dir, `${name}.txt`);
  const made = spawnSync("age-keygen", ["-o", file], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`age-keygen failed: ${made.stderr}`);
  const text = readFileSync(file, "utf8");
  return { identity: /AGE-SECRET-KEY-1\S+/.exec(text)![0], recipient: /public key: (age1\S+)/.exec(text)![1]!, file };
}

export function hasAgeCli(): boolean {
  return requireTool("age") && requireTool("age-keygen");
}

/** `age` CLI with stdin; returns status and output. */
export function ageCli(args: readonly string[], input?: string | Uint8Array) {
  const r = spawnSync("age", args, { input });
  return { status: r.status, bytes: r.stdout, stdout: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8") };
}

/** A user project with secrets/<env>.age encrypted (by depc's code) to `recipients`. */
export async function secretProject(
  files: Record<string, string>,
  secrets: Record<string, unknown> | undefined,
  recipients: readonly string[],
  env = "prod",
): Promise<{ dir: string; writeSecrets: (values: Record<string, unknown>) => Promise<void> }> {
  const project = makeProject(files);
  cleanups.push(project.cleanup);
  const writeSecrets = async (values: Record<string, unknown>) => {
    mkdirSync(join(project.dir, "secrets"), { recursive: true });
    writeFileSync(join(project.dir, "secrets", `${env}.recipients`), `${recipients.join("\n")}\n`);
    writeFileSync(join(project.dir, "secrets", `${env}.age`), await encryptText(JSON.stringify(values, null, 2), recipients));
  };
  if (secrets !== undefined) await writeSecrets(secrets);
  return { dir: project.dir, writeSecrets };
}

/** Compiles like `depc build` does, with an identity file; diagnostics printed as the CLI prints them. */
export async function compileProject(dir: string, identityFile: string | undefined, env = "env/prod") {
  const result = await compile(env, { cwd: dir, cacheDir: false, identityFile });
  const printed = formatDiagnostics(result.diagnostics, { color: false, cwd: dir, sources: result.sources });
  return { ...result, printed };
}

/** Runs the depc CLI in-process; collects its output. */
export async function depc(cwd: string, argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: Io = { cwd, stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), color: false };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

export function writeFile(path: string, text: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, { mode });
}
