// `depc decommission <env> --host H`: remove everything depc manages on a
// host that left the environment. The host runs a bundle with an empty
// model: its ledger (runtime/ledger.sh) names everything earlier runs put
// there, and none of it is declared any more, so all of it is removed
// (except what said `keep: true`).
import { createHash } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { emitBundle } from "../../compiler/emit/bundle.js";
import { renderManifest, type Manifest } from "../../compiler/emit/manifest.js";
import type { HostModel } from "../../compiler/model.js";
import { depcVersion } from "../../compiler/package-info.js";
import type { DeploySource } from "./source.js";

export type DecommissionResult = { ok: true; source: DeploySource } | { ok: false; message: string };

export function decommissionSource(source: DeploySource, name: string, address?: string): DecommissionResult {
  const { manifest } = source;
  const env = manifest.environment;
  if (manifest.hosts.some((h) => h.name === name)) {
    return { ok: false, message: `host ${name} is still in environment ${env}: take it out of the model first (a deploy would put everything back)` };
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) return { ok: false, message: `--host ${JSON.stringify(name)} is not a host name` };
  if (address !== undefined && !/^[^\s\-\x00-\x1f\x7f][^\s\x00-\x1f\x7f]*$/.test(address)) {
    return { ok: false, message: `--address ${JSON.stringify(address)} is not an address ssh can take` };
  }
  const known = manifest.left?.find((h) => h.name === name);
  const target = address !== undefined ? { ...known, name, address } : known;
  if (target === undefined) {
    const left = (manifest.left ?? []).map((h) => h.name);
    return {
      ok: false,
      message: `host ${name} is not one that left environment ${env} in ${source.buildDir} (${left.length > 0 ? `those are: ${left.join(", ")}` : "no host left it there"}); give --address to reach it anyway`,
    };
  }
  const host = { name, address: target.address, user: target.user, port: target.port, data: {}, resources: [], components: [], site: undefined } satisfies HostModel;
  const text = emitBundle({
    environment: env,
    host,
    resources: [],
    notifications: new Map(),
    depcVersion,
    siteOf: () => "",
    // Decommissioning is explicit: removal on, whatever the environment says.
    removal: "remove",
  });
  const bundle = Buffer.from(text, "utf8");
  const digest = `sha256:${createHash("sha256").update(bundle).digest("hex")}`;
  const entry = {
    name,
    address: target.address,
    ...(target.user !== undefined ? { user: target.user } : {}),
    ...(target.port !== undefined ? { port: target.port } : {}),
    bundle: `${name}.sh`,
    digest,
    resources: 0,
    after: [],
  };
  return {
    ok: true,
    source: { manifest: { depc: manifest.depc, environment: env, sources: manifest.sources, hosts: [entry], waves: [[name]] }, bundles: new Map([[name, bundle]]), buildDir: source.buildDir },
  };
}

/** Drops `name` from the `left` hosts of the build's manifest.json (bundles and their digests are untouched). */
export function forgetLeftHost(buildDir: string, name: string): void {
  const file = join(buildDir, "manifest.json");
  try {
    const manifest = JSON.parse(readFileSync(file, "utf8")) as Manifest;
    if (!manifest.left?.some((h) => h.name === name)) return;
    const left = manifest.left.filter((h) => h.name !== name);
    const { left: _, ...rest } = manifest;
    writeFileSync(`${file}.tmp`, renderManifest(left.length > 0 ? { ...rest, left } : rest));
    renameSync(`${file}.tmp`, file);
  } catch {
    /* no build to update (e.g. --from a read-only copy): the next build forgets it only if the host is back */
  }
}
