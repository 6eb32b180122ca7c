// The ssh host key a bundle with secrets is encrypted to: the one the
// operator's ssh would check when deploying that host by push. `ssh -G`
// resolves the host's ssh settings (config file, -o options, port) exactly
// as a push would; `ssh-keygen -F` finds the key in the known_hosts files
// it names, hashed entries too.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";

export interface HostKeyTarget {
  readonly address: string;
  readonly user?: string;
  readonly port?: number;
}

export interface SshLookup {
  /** `ssh -F FILE`. */
  readonly configFile?: string;
  /** `ssh -o OPTION` each. */
  readonly options: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

export interface HostKey {
  /** `ssh-ed25519` or `ssh-rsa`. */
  readonly type: string;
  /** The key blob, base64 as in known_hosts. */
  readonly base64: string;
}

/** A tool was missing or failed; the message is one line without `depc: `. */
export class ToolError extends Error {
  override readonly name = "ToolError";
}

/** Key types age encrypts to, preferred first. */
const TYPES = ["ssh-ed25519", "ssh-rsa"];

function run(tool: string, argv: readonly string[], env: NodeJS.ProcessEnv, what: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(tool, argv, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.error !== undefined) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new ToolError(code === "ENOENT" ? `${tool} not found: install the OpenSSH client (${what})` : `${tool}: ${r.error.message}`);
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const firstLine = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "" && !/^Pseudo-terminal will not be allocated/.test(l)) ?? "";

/**
 * The host key of `target` in the operator's known_hosts, ed25519 preferred
 * to RSA; undefined when none is recorded.
 */
export function findHostKey(target: HostKeyTarget, lookup: SshLookup): HostKey | undefined {
  if (target.address === "" || target.address.startsWith("-")) throw new ToolError(`invalid host address ${JSON.stringify(target.address)}`);
  const argv: string[] = [];
  if (lookup.configFile !== undefined) argv.push("-F", lookup.configFile);
  for (const o of lookup.options) argv.push("-o", o);
  if (target.user !== undefined) argv.push("-l", target.user);
  if (target.port !== undefined) argv.push("-p", String(target.port));
  argv.push("-G", "--", target.address);
  const resolved = run("ssh", argv, lookup.env, "to find the hosts' keys for encrypting secrets");
  if (resolved.status !== 0) throw new ToolError(`ssh -G ${target.address} failed: ${firstLine(resolved.stderr) || `exit ${resolved.status}`}`);
  const settings = new Map<string, string>();
  for (const line of resolved.stdout.split("\n")) {
    const space = line.indexOf(" ");
    if (space > 0) settings.set(line.slice(0, space), line.slice(space + 1));
  }
  // As ssh looks it up: a HostKeyAlias as it is, else the host name with a port other than 22 (`[name]:port`).
  const alias = settings.get("hostkeyalias");
  const name = settings.get("hostname") ?? target.address;
  const port = settings.get("port") ?? "22";
  const lookFor = alias !== undefined && alias !== "none" ? alias : port === "22" ? name : `[${name}]:${port}`;
  const home = lookup.env.HOME ?? "";
  const files = [settings.get("userknownhostsfile") ?? "", settings.get("globalknownhostsfile") ?? ""]
    .flatMap((list) => list.split(" "))
    .filter((f) => f !== "" && f !== "/dev/null" && f !== "none")
    .map((f) => (f.startsWith("~/") ? `${home}${f.slice(1)}` : f));
  const found: HostKey[] = [];
  for (const file of files) {
    const r = run("ssh-keygen", ["-F", lookFor, "-f", file], lookup.env, "to find the hosts' keys for encrypting secrets");
    // Exit 1: not found (or no such file); either way, this file has no key.
    if (r.status !== 0) continue;
    for (const line of r.stdout.split("\n")) {
      if (line.startsWith("#") || line.startsWith("@")) continue;
      const [, type, base64] = line.split(/\s+/);
      if (type !== undefined && base64 !== undefined && TYPES.includes(type)) found.push({ type, base64 });
    }
  }
  for (const type of TYPES) {
    const key = found.find((k) => k.type === type);
    if (key !== undefined) return key;
  }
  return undefined;
}

/**
 * age's tag of an ssh recipient: the first 4 bytes of the SHA-256 of the key
 * blob, base64 without padding. It is in every stanza (`-> ssh-ed25519 TAG …`)
 * of a file encrypted to that key, so a stored object says which key it was
 * encrypted to without being decrypted.
 */
export function ageTag(key: HostKey): string {
  return createHash("sha256").update(Buffer.from(key.base64, "base64")).digest().subarray(0, 4).toString("base64").replace(/=+$/, "");
}

/** The recipient stanzas (`type tag`) in an age file's header; empty when it is not an age file. */
export function ageRecipients(bytes: Uint8Array): string[] {
  const head = Buffer.from(bytes.subarray(0, Math.min(bytes.length, 4096))).toString("latin1");
  if (!head.startsWith("age-encryption.org/v1\n")) return [];
  const stanzas: string[] = [];
  for (const line of head.split("\n").slice(1)) {
    if (line.startsWith("---")) break;
    const m = /^-> (ssh-ed25519|ssh-rsa) (\S+)/.exec(line);
    if (m) stanzas.push(`${m[1]} ${m[2]}`);
    else if (line.startsWith("-> ")) stanzas.push(line.slice(3).split(" ")[0]!);
  }
  return stanzas;
}
