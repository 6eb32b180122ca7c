// Where a deploy's bundles come from: a fresh build of the model (written to
// build/<env>/ like `depc build`), or an existing build directory (--from).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Manifest, ManifestHost } from "../../compiler/emit/manifest.js";
import { trace } from "./trace.js";

/** A manifest host (its `after` is missing in manifests of older builds). */
export type DeployHost = ManifestHost;

export interface DeploySource {
  readonly manifest: Manifest & { readonly hosts: readonly DeployHost[] };
  /** Bundle bytes by host name. */
  readonly bundles: ReadonlyMap<string, Buffer>;
  /** Where the build is, relative to cwd (for messages). */
  readonly buildDir: string;
}

export interface SourceIo {
  readonly cwd: string;
  readonly stderr: (text: string) => void;
  readonly color: boolean;
}

export type SourceResult = { ok: true; source: DeploySource } | { ok: false; message?: string };

export async function buildSource(args: { env?: string; from?: string; out?: string; identity?: string; evalTimeout?: number; cache: boolean }, io: SourceIo): Promise<SourceResult> {
  if (args.from !== undefined) return readBuild(resolve(io.cwd, args.from), io.cwd);
  if (args.env === undefined) return { ok: false, message: "give an environment (depc deploy env/prod) or an existing build (--from build/prod)" };
  // Loaded here, not at the top: a deploy --from never loads the compiler.
  const [{ compile }, { formatDiagnostics, shownPath }, { withLeftHosts, writeBuild }] = await Promise.all([import("../../compiler/build.js"), import("../../compiler/diagnostics/format.js"), import("../../compiler/output.js")]);
  trace("build: compiler loaded");
  const result = await compile(args.env, {
    cwd: io.cwd,
    ...(args.identity !== undefined ? { identityFile: args.identity } : {}),
    ...(args.cache ? {} : { refreshCache: true }),
    ...(args.evalTimeout !== undefined ? { evalTimeoutSeconds: args.evalTimeout } : {}),
  });
  trace("build: compiled");
  if (result.diagnostics.length > 0) {
    io.stderr(formatDiagnostics(result.diagnostics, { color: io.color, cwd: io.cwd, sources: result.sources }));
  }
  if (!result.ok || !result.bundles || !result.manifest) {
    const errors = result.diagnostics.filter((d) => d.severity === "error").length;
    io.stderr(`\nFound ${errors} error${errors === 1 ? "" : "s"}. Nothing was deployed.\n`);
    return { ok: false };
  }
  const outDir = args.out !== undefined ? resolve(io.cwd, args.out) : join(result.projectRoot ?? io.cwd, "build", result.manifest.environment);
  const manifest = withLeftHosts(outDir, result.manifest);
  const failed = writeBuild(outDir, result.bundles, manifest);
  if (failed) {
    io.stderr(formatDiagnostics([failed], { color: io.color, cwd: io.cwd, sources: result.sources }));
    return { ok: false };
  }
  trace("build: written");
  const bundles = new Map<string, Buffer>();
  for (const [host, text] of result.bundles) bundles.set(host, Buffer.from(text, "utf8"));
  return {
    ok: true,
    source: { manifest, bundles, buildDir: shownPath(io.cwd, outDir) },
  };
}

const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** Reads and checks build/<env>/: the manifest's shape, and every bundle against its digest. */
export function readBuild(dir: string, cwd: string): SourceResult {
  const shown = relative(cwd, dir) || ".";
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why = e.code === "ENOENT" ? "no manifest.json there (build it with 'depc build <env>', or give the build directory)" : e.message;
    return { ok: false, message: `cannot read the build ${shown}: ${why}` };
  }
  const problem = manifestProblem(manifest);
  if (problem) return { ok: false, message: `the build ${shown} has an invalid manifest.json: ${problem}` };
  const m = manifest as Manifest & { hosts: DeployHost[] };
  const bundles = new Map<string, Buffer>();
  for (const host of m.hosts) {
    let data: Buffer;
    try {
      data = readFileSync(join(dir, host.bundle));
    } catch (error) {
      return { ok: false, message: `cannot read ${join(shown, host.bundle)}: ${(error as Error).message}` };
    }
    if (sha256(data) !== host.digest) {
      return { ok: false, message: `${join(shown, host.bundle)} does not match the digest in manifest.json: it changed after the build; rebuild it` };
    }
    bundles.set(host.name, data);
  }
  return { ok: true, source: { manifest: m, bundles, buildDir: shown } };
}

const SAFE = /^[^\s\-\x00-\x1f\x7f][^\s\x00-\x1f\x7f]*$/;

function manifestProblem(m: unknown): string | undefined {
  if (typeof m !== "object" || m === null) return "not an object";
  const o = m as Record<string, unknown>;
  if (typeof o.environment !== "string" || o.environment === "") return "no environment name";
  if (!Array.isArray(o.hosts) || o.hosts.length === 0) return "no hosts";
  const names = new Set<string>();
  for (const h of o.hosts as Record<string, unknown>[]) {
    if (typeof h?.name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(h.name)) return `a host has an invalid name ${JSON.stringify(h?.name)}`;
    if (names.has(h.name)) return `host ${h.name} is listed twice`;
    names.add(h.name);
    if (typeof h.address !== "string" || !SAFE.test(h.address)) return `host ${h.name}: invalid address ${JSON.stringify(h.address)}`;
    if (h.user !== undefined && (typeof h.user !== "string" || !SAFE.test(h.user))) return `host ${h.name}: invalid user ${JSON.stringify(h.user)}`;
    if (h.port !== undefined && (!Number.isInteger(h.port) || (h.port as number) < 1 || (h.port as number) > 65535)) return `host ${h.name}: invalid port`;
    if (typeof h.bundle !== "string" || h.bundle.includes("/") || h.bundle.startsWith(".")) return `host ${h.name}: invalid bundle file name`;
    if (typeof h.digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(h.digest)) return `host ${h.name}: invalid digest`;
    if (h.after !== undefined && (!Array.isArray(h.after) || h.after.some((a) => typeof a !== "string"))) return `host ${h.name}: invalid after`;
  }
  for (const h of o.hosts as Record<string, unknown>[]) {
    const drainProblem = h.drains === undefined ? undefined : drainsProblem(h.drains, names);
    if (drainProblem !== undefined) return `host ${h.name}: invalid drains: ${drainProblem}`;
  }
  if (o.rollout !== undefined) {
    const problem = rolloutProblem(o.rollout, names);
    if (problem !== undefined) return `invalid rollout: ${problem}`;
  }
  if (o.waves !== undefined && (!Array.isArray(o.waves) || o.waves.some((w) => !Array.isArray(w)))) return "invalid waves";
  if (o.left !== undefined) {
    if (!Array.isArray(o.left)) return "invalid left";
    for (const h of o.left as Record<string, unknown>[]) {
      if (typeof h?.name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(h.name) || names.has(h.name)) return `a left host has an invalid name ${JSON.stringify(h?.name)}`;
      if (typeof h.address !== "string" || !SAFE.test(h.address)) return `left host ${h.name}: invalid address ${JSON.stringify(h.address)}`;
      if (h.user !== undefined && (typeof h.user !== "string" || !SAFE.test(h.user))) return `left host ${h.name}: invalid user ${JSON.stringify(h.user)}`;
      if (h.port !== undefined && (!Number.isInteger(h.port) || (h.port as number) < 1 || (h.port as number) > 65535)) return `left host ${h.name}: invalid port`;
    }
  }
  return undefined;
}

const HAPROXY_NAME = /^[A-Za-z0-9_.:-]+$/;
const isArgv = (a: unknown) => Array.isArray(a) && a.length > 0 && a.every((x) => typeof x === "string" && !x.includes("\0")) && a[0] !== "";
const isCount = (n: unknown, min: number) => Number.isInteger(n) && (n as number) >= min;

/** The manifest's drains of one host (compiler/rollout.ts writes them; a hand-edited manifest must not crash or inject). */
function drainsProblem(drains: unknown, names: ReadonlySet<string>): string | undefined {
  if (!Array.isArray(drains)) return "not a list";
  for (const d of drains as Record<string, unknown>[]) {
    if (typeof d?.via !== "string" || !names.has(d.via)) return `via ${JSON.stringify(d?.via)} is not a host of the build`;
    if (!isCount(d.timeoutSeconds, 1)) return "timeoutSeconds is not a whole number of seconds";
    if (d.adapter === "haproxy") {
      if (typeof d.backend !== "string" || !HAPROXY_NAME.test(d.backend) || typeof d.server !== "string" || !HAPROXY_NAME.test(d.server)) return "backend or server is not an HAProxy name";
      if (typeof d.socket !== "string" || !d.socket.startsWith("/") || /[\x00-\x1f\x7f]/.test(d.socket)) return "socket is not an absolute path";
    } else if (d.adapter === "command") {
      if (!isArgv(d.leave) || !isArgv(d.back)) return "leave or back is not an argv list";
    } else return `unknown adapter ${JSON.stringify(d.adapter)}`;
  }
  return undefined;
}

function rolloutProblem(rollout: unknown, names: ReadonlySet<string>): string | undefined {
  if (typeof rollout !== "object" || rollout === null || Array.isArray(rollout)) return "not an object";
  for (const [component, p] of Object.entries(rollout as Record<string, Record<string, unknown>>)) {
    const bad = (what: string) => `${component}: ${what}`;
    if (!Array.isArray(p?.hosts) || p.hosts.some((h) => typeof h !== "string" || !names.has(h))) return bad("hosts are not hosts of the build");
    if (!Array.isArray(p.batches) || p.batches.length === 0 || p.batches.some((b) => !isCount(b, 1))) return bad("batches are not whole numbers of hosts");
    if (typeof p.pauseSeconds !== "number" || !(p.pauseSeconds >= 0)) return bad("pauseSeconds is not a number of seconds");
    if (!isCount(p.maxFailed, 0)) return bad("maxFailed is not a whole number");
    if (p.onFailure !== "stop" && p.onFailure !== "rollback") return bad("onFailure is not stop or rollback");
  }
  return undefined;
}
