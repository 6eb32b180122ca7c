/**
 * The secrets of an environment, at rest: `secrets/<env>.age` (an age file,
 * ASCII-armored, whose plaintext is a JSON object) and its recipients,
 * `secrets/<env>.recipients` (one age public key per line, `#` comments:
 * the format of `age -R`). Encryption is the age-encryption library by the
 * author of age; what it writes `age -d` reads, and the reverse.
 *
 * Failures are SecretsError with a message for the user, never a stack
 * trace, and never a secret value or a private key.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type * as Age from "age-encryption";

// age-encryption (and its elliptic-curve code) loads only when secrets are
// really encrypted or decrypted: a build without secrets does not pay for it.
let agePromise: Promise<typeof Age> | undefined;
const age = () => (agePromise ??= import("age-encryption"));

/** A mistake or an unusable file the user must fix; the message says how. */
export class SecretsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretsError";
  }
}

/** Flat map of secret keys to their values. */
export type SecretValues = ReadonlyMap<string, string>;

export interface SecretsPaths {
  readonly file: string;
  readonly recipients: string;
}

/** `secrets/<env>.age` and `secrets/<env>.recipients` below the project root. */
export function secretsPaths(projectRoot: string, env: string): SecretsPaths {
  return { file: join(projectRoot, "secrets", `${env}.age`), recipients: join(projectRoot, "secrets", `${env}.recipients`) };
}

export const ENV_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const SECRET_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** Reserved keys start with `$`; `$fingerprint` seeds the fingerprints shown by --check. */
export const FINGERPRINT_KEY = "$fingerprint";

// ---- identities ----

/** Where the identity comes from, in the order they are tried. */
export interface IdentityOptions {
  /** `--identity FILE`. */
  readonly identityFile?: string;
  /** Process environment (DEPC_AGE_KEY, DEPC_AGE_IDENTITY, HOME). */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface Identities {
  readonly keys: readonly string[];
  /** Where they came from, for messages (never the key itself). */
  readonly source: string;
}

/**
 * The identities to decrypt with: `--identity FILE`, else `DEPC_AGE_KEY` (the
 * key itself), else `DEPC_AGE_IDENTITY` (a file), else `~/.config/depc/age.key`.
 */
export function loadIdentities(options: IdentityOptions = {}): Identities {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if (options.identityFile !== undefined) return identitiesFromFile(resolve(cwd, options.identityFile), "--identity");
  if (env.DEPC_AGE_KEY !== undefined && env.DEPC_AGE_KEY !== "") return { keys: parseIdentities(env.DEPC_AGE_KEY, "DEPC_AGE_KEY"), source: "DEPC_AGE_KEY" };
  if (env.DEPC_AGE_IDENTITY !== undefined && env.DEPC_AGE_IDENTITY !== "") return identitiesFromFile(resolve(cwd, env.DEPC_AGE_IDENTITY), "DEPC_AGE_IDENTITY");
  const home = env.HOME !== undefined && env.HOME !== "" ? env.HOME : homedir();
  const file = join(home, ".config", "depc", "age.key");
  if (!existsSync(file)) {
    throw new SecretsError(
      `no age identity: ${file} does not exist. Give --identity FILE, set DEPC_AGE_IDENTITY to a key file or DEPC_AGE_KEY to the key, ` +
        `or create one with: mkdir -p ~/.config/depc && age-keygen -o ~/.config/depc/age.key`,
    );
  }
  return identitiesFromFile(file, "default");
}

function identitiesFromFile(file: string, how: string): Identities {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new SecretsError(`cannot read the age identity file ${file} (${how}): ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return { keys: parseIdentities(text, file), source: file };
}

/** Identity lines of an age key file (`age-keygen` output); comments and blank lines skipped. */
export function parseIdentities(text: string, source: string): string[] {
  if (text.includes("-----BEGIN OPENSSH PRIVATE KEY-----") || /^ssh-/.test(text.trim())) {
    throw new SecretsError(`${source} holds an ssh key; depc decrypts with age identities (AGE-SECRET-KEY-1...) only. Make one with age-keygen.`);
  }
  const keys: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (!/^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/.test(line)) {
      // Never echo the line: it may be a mangled private key.
      throw new SecretsError(`${source}: line ${i + 1} is not an age identity (AGE-SECRET-KEY-1...).`);
    }
    keys.push(line);
  });
  if (keys.length === 0) throw new SecretsError(`${source} holds no age identity (AGE-SECRET-KEY-1...).`);
  return keys;
}

/** The public keys of identities, for messages. */
export async function publicKeysOf(identities: Identities): Promise<string[]> {
  const out: string[] = [];
  for (const key of identities.keys) {
    try {
      out.push(await (await age()).identityToRecipient(key));
    } catch {
      throw new SecretsError(`${identities.source}: an identity is not a valid age key.`);
    }
  }
  return out;
}

// ---- recipients ----

/** The recipients file's keys (format of `age -R`: one per line, `#` comments). */
export function readRecipients(paths: SecretsPaths): string[] {
  if (!existsSync(paths.recipients)) return [];
  const out: string[] = [];
  readFileSync(paths.recipients, "utf8")
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) return;
      const problem = recipientProblem(line);
      if (problem !== undefined) throw new SecretsError(`${paths.recipients}: line ${i + 1}: ${problem}`);
      out.push(line);
    });
  return out;
}

/** Why a recipient string cannot be used, or undefined. */
export function recipientProblem(recipient: string): string | undefined {
  if (/^ssh-(ed25519|rsa) /.test(recipient)) {
    return "ssh public keys are not supported as recipients (the age-encryption library has no ssh recipient type); use an age public key (age1...) from age-keygen";
  }
  if (!/^age1[02-9ac-hj-np-z]+$/.test(recipient)) return `${JSON.stringify(recipient.slice(0, 80))} is not an age public key (age1...)`;
  return undefined;
}

// ---- the document ----

/**
 * Parses the plaintext: a JSON object whose values are strings, or objects
 * of strings (nested keys join with "."): `{"db": {"password": "x"}}` is
 * `db.password`. Problems name keys, never values.
 */
export function parseSecrets(text: string, source: string): Map<string, string> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    // JSON.parse messages quote a few characters of the input: keep only the position.
    const where = /position (\d+)/.exec(String((error as Error).message));
    const at = where ? ` at ${lineColumn(text, Number(where[1]))}` : "";
    throw new SecretsError(`${source} is not valid JSON${at}. The secrets are a JSON object: {"db.password": "..."}.`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new SecretsError(`${source} must hold a JSON object of secrets: {"db.password": "..."}.`);
  }
  const out = new Map<string, string>();
  const walk = (object: Record<string, unknown>, prefix: string) => {
    for (const [name, value] of Object.entries(object)) {
      const key = prefix === "" ? name : `${prefix}.${name}`;
      const reserved = prefix === "" && name === FINGERPRINT_KEY;
      if (!reserved && !SECRET_KEY.test(name)) throw new SecretsError(`${source}: key ${JSON.stringify(key)} is not usable: keys match [A-Za-z0-9_][A-Za-z0-9_.-]*.`);
      if (typeof value === "string") {
        if (out.has(key)) throw new SecretsError(`${source}: key ${JSON.stringify(key)} is given twice.`);
        if (/[\uD800-\uDFFF]/u.test(value)) throw new SecretsError(`${source}: the value of ${JSON.stringify(key)} contains a lone UTF-16 surrogate.`);
        out.set(key, value);
      } else if (typeof value === "object" && value !== null && !Array.isArray(value) && !reserved) {
        walk(value as Record<string, unknown>, key);
      } else {
        throw new SecretsError(`${source}: the value of ${JSON.stringify(key)} must be a string (or an object of strings).`);
      }
    }
  };
  walk(doc as Record<string, unknown>, "");
  return out;
}

function lineColumn(text: string, position: number): string {
  const before = text.slice(0, position).split("\n");
  return `line ${before.length} column ${before[before.length - 1]!.length + 1}`;
}

// ---- encryption ----

/** Encrypts plaintext to every recipient; ASCII-armored (reviewable in git, read by `age -d`). */
export async function encryptText(plaintext: string, recipients: readonly string[]): Promise<string> {
  if (recipients.length === 0) throw new SecretsError("no recipients: add one with depc secrets recipients add <env> age1...");
  const { Encrypter, armor } = await age();
  const encrypter = new Encrypter();
  for (const r of recipients) {
    const problem = recipientProblem(r);
    if (problem !== undefined) throw new SecretsError(problem);
    encrypter.addRecipient(r);
  }
  return armor.encode(await encrypter.encrypt(plaintext));
}

/** Decrypts an age file (armored or binary) with the identities. */
export async function decryptFile(file: string, identities: Identities): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new SecretsError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const { Decrypter, armor } = await age();
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart();
  let cipher = bytes;
  try {
    if (head.startsWith("-----BEGIN AGE ENCRYPTED FILE-----")) cipher = armor.decode(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new SecretsError(`${file} is not a valid armored age file: ${(error as Error).message}`);
  }
  if (!head.startsWith("-----BEGIN") && !head.startsWith("age-encryption.org/v1")) {
    throw new SecretsError(`${file} is not an age file (it should start with "age-encryption.org/v1" or an armor line).`);
  }
  const decrypter = new Decrypter();
  for (const key of identities.keys) {
    try {
      decrypter.addIdentity(key);
    } catch {
      throw new SecretsError(`${identities.source}: an identity is not a valid age key.`);
    }
  }
  let plain: Uint8Array;
  try {
    plain = await decrypter.decrypt(cipher);
  } catch (error) {
    const reason = (error as Error).message ?? String(error);
    if (/no identity matched/.test(reason)) {
      const mine = await publicKeysOf(identities).catch(() => [] as string[]);
      throw new SecretsError(
        `cannot decrypt ${file}: the identity from ${identities.source} (${mine.join(", ")}) is not one of its recipients. ` +
          `Ask someone who can decrypt it to run: depc secrets recipients add <env> ${mine[0] ?? "age1..."}`,
      );
    }
    throw new SecretsError(`cannot decrypt ${file}: ${reason} (is the file damaged?)`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(plain);
  } catch {
    throw new SecretsError(`${file} decrypts, but not to UTF-8 text: the secrets are a JSON object.`);
  }
}

/** Decrypts and parses an environment's secrets. */
export async function readSecrets(paths: SecretsPaths, identities: Identities): Promise<Map<string, string>> {
  return parseSecrets(await decryptFile(paths.file, identities), paths.file);
}
