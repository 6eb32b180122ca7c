// `depc publish`: a build into a store, as the layout of layout.ts: the
// bundles each under its sha256, then a signed manifest under the next
// serial, then `latest` (last: an agent that reads `latest` finds everything
// it points to). Nothing the store holds is ever changed in place except
// `latest`; a killed publish leaves at worst objects no manifest names.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "../../compiler/load/cache.js";
import type { DeploySource } from "../deploy/source.js";
import { ToolError, ageRecipients, ageTag, findHostKey, type HostKey } from "./hostkeys.js";
import {
  LATEST_PATH,
  LayoutError,
  SIGNATURE_NAMESPACE,
  bundlePath,
  formatLatest,
  formatManifest,
  manifestPath,
  nextSerial,
  parseBundlePath,
  parseLatest,
  parseManifest,
  signaturePath,
  type PublishedHost,
  type PublishedManifest,
} from "./layout.js";
import { StoreError, type Store } from "./store.js";

/** A publish cannot go on; each line is printed as `depc: publish: LINE`. Nothing was written. */
export class PublishError extends Error {
  override readonly name = "PublishError";
  constructor(readonly lines: readonly string[]) {
    super(lines.join("\n"));
  }
}

export interface PublishOptions {
  readonly source: DeploySource;
  readonly store: Store;
  /** Private key file, or a `.pub` whose private half ssh-agent holds. */
  readonly signKey: string;
  /** Lifetime of the manifest in seconds. */
  readonly expiresSeconds: number;
  /** ssh settings for finding the hosts' keys (as `depc deploy -F/-o`). */
  readonly ssh: { readonly configFile?: string; readonly options: readonly string[] };
  readonly env: NodeJS.ProcessEnv;
  /** Epoch seconds. @default the clock */
  readonly now?: number;
}

/** Why a host's line differs from the previous serial's: the first that applies. `object`: re-encrypted (its object was gone). */
export type HostChange = "added" | "bundle" | "host key" | "object" | "after" | "unchanged";

export interface PublishedHostOutcome extends PublishedHost {
  readonly change: HostChange;
  /** The object was written by this publish. */
  readonly uploaded: boolean;
}

export interface PublishOutcome {
  readonly environment: string;
  readonly store: string;
  /** The serial now current (new, or the unchanged one). */
  readonly serial: number;
  /** A new serial was written: `changed` hosts, or `expiry` (nothing changed, re-signed). */
  readonly wrote: "first" | "changed" | "expiry" | false;
  readonly published: number;
  readonly expires: number;
  readonly hosts: readonly PublishedHostOutcome[];
  /** Hosts of the previous serial that the build no longer has. */
  readonly removed: readonly string[];
  readonly uploaded: number;
}

/** What the store holds now: its latest manifest, or undefined when it is empty. */
async function currentManifest(store: Store): Promise<PublishedManifest | undefined> {
  const latest = await store.get(LATEST_PATH);
  if (latest === undefined) return undefined;
  const where = `the store ${store.describe}`;
  try {
    const serial = parseLatest(Buffer.from(latest).toString("latin1"));
    const text = await store.get(manifestPath(serial));
    if (text === undefined) throw new PublishError([`${where} has latest ${serial} but no ${manifestPath(serial)}: it is not a whole depc store`]);
    const manifest = parseManifest(Buffer.from(text).toString("latin1"));
    if (manifest.serial !== serial) throw new PublishError([`${where}: ${manifestPath(serial)} says serial ${manifest.serial}`]);
    return manifest;
  } catch (error) {
    if (error instanceof LayoutError) throw new PublishError([`${where}: ${error.message}`]);
    throw error;
  }
}

/**
 * Encrypts `plain` to `key` with the age CLI. The plain bundle goes through
 * a pipe, never a file; the ciphertext lands in a private directory.
 */
function encrypt(plain: Uint8Array, key: HostKey, env: NodeJS.ProcessEnv, host: string): Buffer {
  const dir = mkdtempSync(join(env.TMPDIR ?? tmpdir(), "depc-publish-"));
  try {
    chmodSync(dir, 0o700);
    const recipients = join(dir, "recipient");
    const out = join(dir, "bundle.age");
    writeFileSync(recipients, `${key.type} ${key.base64}\n`);
    const r = spawnSync("age", ["-R", recipients, "-o", out], { input: plain, env, stdio: ["pipe", "ignore", "pipe"], encoding: "buffer" });
    if (r.error !== undefined) {
      const code = (r.error as NodeJS.ErrnoException).code;
      throw new PublishError([code === "ENOENT" ? "age not found: install age (Debian: apt-get install age) to publish bundles that hold secrets" : `age: ${r.error.message}`]);
    }
    if (r.status !== 0) throw new PublishError([`age could not encrypt the bundle of ${host}: ${r.stderr.toString("utf8").trim().split("\n")[0]}`]);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Signs `text` with ssh-keygen in depc's namespace; returns the signature file's bytes. */
function sign(text: string, keyFile: string, env: NodeJS.ProcessEnv): Buffer {
  const dir = mkdtempSync(join(env.TMPDIR ?? tmpdir(), "depc-publish-"));
  try {
    const file = join(dir, "manifest");
    writeFileSync(file, text);
    const r = spawnSync("ssh-keygen", ["-Y", "sign", "-f", keyFile, "-n", SIGNATURE_NAMESPACE, file], { env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
    if (r.error !== undefined) {
      const code = (r.error as NodeJS.ErrnoException).code;
      throw new PublishError([code === "ENOENT" ? "ssh-keygen not found: install the OpenSSH client (8.1 or later) to sign manifests" : `ssh-keygen: ${r.error.message}`]);
    }
    const why = r.stderr
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("Signing file"))
      .pop();
    if (r.status !== 0 || !existsSync(`${file}.sig`)) throw new PublishError([`ssh-keygen could not sign with ${keyFile}: ${why ?? `exit ${r.status}`}`]);
    return readFileSync(`${file}.sig`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Store requests at a time: a network store's latency, not its bandwidth, is what many small objects pay. */
const PARALLEL = 16;

/** Runs `work` for every item, PARALLEL at a time; the first failure is thrown once all started ones settle. */
async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}

const sameAfter = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Publishes `source` to `store`; throws PublishError (nothing written) or StoreError. */
export async function publish(options: PublishOptions): Promise<PublishOutcome> {
  const { source, store, env } = options;
  const environment = source.manifest.environment;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (!existsSync(options.signKey)) {
    throw new PublishError([`the signing key ${options.signKey} does not exist (make one with: ssh-keygen -t ed25519 -f ${options.signKey.replace(/\.pub$/, "")})`]);
  }
  const previous = await currentManifest(store);
  if (previous !== undefined && previous.environment !== environment) {
    throw new PublishError([`the store ${store.describe} holds environment ${previous.environment} (serial ${previous.serial}), not ${environment}: give each environment its own store`]);
  }
  const before = new Map((previous?.hosts ?? []).map((h) => [h.name, h]));

  // Secrets: every such host's key first, so that all the hosts without one are named at once.
  const keys = new Map<string, HostKey>();
  const missing: string[] = [];
  for (const host of source.manifest.hosts) {
    if (host.secrets !== true) continue;
    let key: HostKey | undefined;
    try {
      key = findHostKey(host, { ...options.ssh, env });
    } catch (error) {
      if (error instanceof ToolError) throw new PublishError([error.message]);
      throw error;
    }
    if (key === undefined) {
      missing.push(
        `${host.name}: its bundle holds secrets and known_hosts has no ssh-ed25519 or ssh-rsa key of ${host.address} to encrypt it to: ` +
          `connect once with 'ssh ${host.port !== undefined ? `-p ${host.port} ` : ""}${host.address}' to record it, or deploy this host by push: depc deploy ${environment} --limit ${host.name}`,
      );
    } else keys.set(host.name, key);
  }
  if (missing.length > 0) throw new PublishError([...missing, `nothing was published`]);

  // What the store has, asked all at once (an S3 store answers each over the network).
  const plainObjects = [...new Set(source.manifest.hosts.filter((h) => !keys.has(h.name)).map((h) => bundlePath(h.digest.replace(/^sha256:/, ""), false)))];
  const present = new Set<string>();
  await inParallel(plainObjects, async (object) => {
    if (await store.has(object)) present.add(object);
  });
  const candidates = source.manifest.hosts.filter((h) => {
    const old = before.get(h.name);
    return keys.has(h.name) && old !== undefined && old.digest === h.digest.replace(/^sha256:/, "") && parseBundlePath(old.object)?.encrypted === true;
  });
  const previousObjects = new Map<string, Uint8Array>();
  await inParallel(candidates, async (h) => {
    const bytes = await store.get(before.get(h.name)!.object);
    if (bytes !== undefined) previousObjects.set(h.name, bytes);
  });

  // Each host's object: the plain bundle, a reused encryption, or a new one.
  const pending = new Map<string, Uint8Array>();
  const hosts: (PublishedHost & { change: HostChange })[] = [];
  for (const host of source.manifest.hosts) {
    const plain = source.bundles.get(host.name)!;
    const digest = host.digest.replace(/^sha256:/, "");
    const after = host.after ?? [];
    const old = before.get(host.name);
    let object: string;
    let objectSha256: string;
    let keyChanged = false;
    const key = keys.get(host.name);
    if (key === undefined) {
      object = bundlePath(digest, false);
      objectSha256 = digest;
      if (!present.has(object)) pending.set(object, plain);
    } else {
      // age is not deterministic: the previous object is kept while the bundle and the host's key are the same.
      const reusable = previousObjects.get(host.name);
      const stanzas = reusable === undefined ? [] : ageRecipients(reusable);
      if (reusable !== undefined && sha256(reusable) === old!.objectSha256 && stanzas.length === 1 && stanzas[0] === `${key.type} ${ageTag(key)}`) {
        object = old!.object;
        objectSha256 = old!.objectSha256;
      } else {
        keyChanged = reusable !== undefined && old!.digest === digest;
        const sealed = encrypt(plain, key, env, host.name);
        objectSha256 = sha256(sealed);
        object = bundlePath(objectSha256, true);
        pending.set(object, sealed);
      }
    }
    const change: HostChange =
      old === undefined ? "added" : old.digest !== digest ? "bundle" : keyChanged ? "host key" : old.object !== object ? "object" : !sameAfter(old.after, after) ? "after" : "unchanged";
    hosts.push({ name: host.name, digest, object, objectSha256, after, change });
  }
  const names = new Set(hosts.map((h) => h.name));
  const removed = (previous?.hosts ?? []).filter((h) => !names.has(h.name)).map((h) => h.name);
  const reordered = previous !== undefined && removed.length === 0 && previous.hosts.some((h, i) => h.name !== hosts[i]?.name);
  const changed = previous === undefined || removed.length > 0 || reordered || hosts.some((h) => h.change !== "unchanged");
  // Re-sign before a running host could see the manifest expire: at half its lifetime.
  const expiring = previous !== undefined && previous.expires - now < (previous.expires - previous.published) / 2;

  const outcome = (serial: number, wrote: PublishOutcome["wrote"], published: number, expires: number, uploaded: ReadonlySet<string>): PublishOutcome => ({
    environment,
    store: store.describe,
    serial,
    wrote,
    published,
    expires,
    hosts: hosts.map((h) => ({ name: h.name, digest: h.digest, object: h.object, objectSha256: h.objectSha256, after: h.after, change: h.change, uploaded: uploaded.has(h.object) })),
    removed,
    uploaded: uploaded.size,
  });

  if (!changed && !expiring) {
    // Nothing to sign; an object lost from the store is put back (it is named by its bytes).
    await inParallel([...pending], ([path, bytes]) => store.put(path, bytes));
    return outcome(previous!.serial, false, previous!.published, previous!.expires, new Set(pending.keys()));
  }

  let serial = nextSerial(previous?.serial ?? 0);
  // A manifest written by a publish killed before its `latest`: never seen, but manifests are never rewritten.
  while (await store.has(manifestPath(serial))) serial = nextSerial(serial);
  const manifest: PublishedManifest = { environment, serial, published: now, expires: now + options.expiresSeconds, hosts };
  const text = formatManifest(manifest);
  // Signed before anything is written: a key that cannot sign leaves the store as it was.
  const signature = sign(text, options.signKey, env);
  await inParallel([...pending], ([path, bytes]) => store.put(path, bytes));
  // Then, one after the other: what names the bundles, and last what names the manifest.
  await store.put(manifestPath(serial), Buffer.from(text, "latin1"));
  await store.put(signaturePath(serial), signature);
  await store.put(LATEST_PATH, Buffer.from(formatLatest(serial), "latin1"));
  return outcome(serial, previous === undefined ? "first" : changed ? "changed" : "expiry", manifest.published, manifest.expires, new Set(pending.keys()));
}

export { StoreError };
