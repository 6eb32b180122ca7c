// Rolling deploys at build time: checks the environment's rollout policies
// against how many hosts run each component (so an outage is a build error,
// not a surprise during a deploy) and the drains declared on requires;
// resolves both into the manifest, so `depc deploy --from` needs no compiler.
import { diagnostic, show, type Diagnostic } from "./diagnostics/diagnostic.js";
import type { ManifestDrain, ManifestRollout } from "./emit/manifest.js";
import type { EnvironmentModel } from "./model.js";
import { isDrain } from "../model/rollout.js";

export interface RolloutPlan {
  readonly diagnostics: Diagnostic[];
  /** By component name; absent when the environment has no policy. */
  readonly rollout?: Readonly<Record<string, ManifestRollout>>;
  /** By the drained (provider's) host. */
  readonly drains: ReadonlyMap<string, ManifestDrain[]>;
}

const PERCENT = /^(\d+(?:\.\d+)?)%$/;
/** HAProxy's own rule for proxy and server names: they also go into its CLI, where ';' and blanks would be syntax. */
const HAPROXY_NAME = /^[A-Za-z0-9_.:-]+$/;

/** Resolves a batch size against `total` hosts: a count, or a percentage rounded down (at least 1). */
export function resolveSize(size: unknown, total: number): number | undefined {
  if (typeof size === "number") return Number.isInteger(size) && size >= 1 ? size : undefined;
  if (typeof size !== "string") return undefined;
  const m = PERCENT.exec(size);
  if (!m) return undefined;
  const pct = Number(m[1]);
  if (!(pct > 0 && pct <= 100)) return undefined;
  return Math.max(1, Math.floor((total * pct) / 100));
}

/** Splits `hosts` into batches of `sizes` (the last size repeats). */
export function splitBatches<T>(hosts: readonly T[], sizes: readonly number[]): T[][] {
  const batches: T[][] = [];
  let i = 0;
  while (i < hosts.length) {
    const size = sizes[Math.min(batches.length, sizes.length - 1)] ?? hosts.length;
    batches.push(hosts.slice(i, i + size));
    i += size;
  }
  return batches;
}

export function planRollout(env: EnvironmentModel): RolloutPlan {
  const diagnostics: Diagnostic[] = [];
  const hostsOf = new Map<string, string[]>();
  for (const host of env.hosts) {
    for (const c of host.components) {
      const list = hostsOf.get(c.component) ?? [];
      if (!list.includes(host.name)) list.push(host.name);
      hostsOf.set(c.component, list);
    }
  }
  const rollout: Record<string, ManifestRollout> = {};
  const raw = env.rollout;
  if (raw !== undefined && (typeof raw !== "object" || raw === null || Array.isArray(raw))) {
    diagnostics.push(diagnostic("rolloutInvalid", { component: "(all)", field: "rollout", value: show(raw), problem: "is not an object of policies by component name" }, env.site));
  } else if (raw !== undefined) {
    for (const [component, policy] of Object.entries(raw as Record<string, unknown>)) {
      if (policy === undefined) continue;
      const name = JSON.stringify(component);
      const hosts = hostsOf.get(component);
      if (hosts === undefined) {
        const known = [...hostsOf.keys()].map((k) => JSON.stringify(k)).join(", ") || "none";
        diagnostics.push(diagnostic("rolloutUnknownComponent", { component: name, env: JSON.stringify(env.name), known }, env.site));
        continue;
      }
      const bad = (field: string, value: unknown, problem: string) =>
        diagnostics.push(diagnostic("rolloutInvalid", { component: name, field, value: show(value), problem }, env.site));
      if (typeof policy !== "object" || policy === null) {
        bad("policy", policy, "is not an object ({ batches: [...] })");
        continue;
      }
      const p = policy as Record<string, unknown>;
      const before = diagnostics.length;
      const sizes: number[] = [];
      if (!Array.isArray(p.batches) || p.batches.length === 0) bad("batches", p.batches, "is not a non-empty list of batch sizes");
      else {
        for (const size of p.batches as unknown[]) {
          const n = resolveSize(size, hosts.length);
          if (n === undefined) bad("batch size", size, "is not a whole number of hosts (1 or more) or a percentage (\"1%\" to \"100%\")");
          else sizes.push(n);
        }
      }
      const pause = p.pause ?? 0;
      if (typeof pause !== "number" || !Number.isFinite(pause) || pause < 0) bad("pause", pause, "is not a number of seconds (0 or more)");
      const maxFailedRaw = p.maxFailed ?? 0;
      const maxFailed = maxFailedRaw === 0 ? 0 : resolveSize(maxFailedRaw, hosts.length);
      if (maxFailed === undefined) bad("maxFailed", maxFailedRaw, "is not a whole number of hosts (0 or more) or a percentage");
      const onFailure = p.onFailure ?? "stop";
      if (onFailure !== "stop" && onFailure !== "rollback") bad("onFailure", onFailure, "must be \"stop\" or \"rollback\"");
      if (p.allowFullOutage !== undefined && typeof p.allowFullOutage !== "boolean") bad("allowFullOutage", p.allowFullOutage, "must be true or false");
      if (diagnostics.length > before) continue;
      const batches = splitBatches(hosts, sizes);
      if (batches[0]!.length === hosts.length && p.allowFullOutage !== true) {
        diagnostics.push(
          diagnostic(
            "rolloutFullOutage",
            { component: name, count: hosts.length, hosts: hosts.join(", "), batch: show((p.batches as unknown[])[0]) },
            env.site,
          ),
        );
        continue;
      }
      rollout[component] = { hosts, batches: sizes, pauseSeconds: pause as number, maxFailed: maxFailed!, onFailure: onFailure as "stop" | "rollback" };
    }
  }

  const drains = new Map<string, ManifestDrain[]>();
  const requirerHost = (id: string) => id.split("/", 1)[0]!;
  for (const w of env.wiring) {
    for (const d of w.drains ?? []) {
      const problem = (text: string) =>
        diagnostics.push(diagnostic("drainInvalid", { requirer: JSON.stringify(w.requirer), provider: JSON.stringify(d.provider), key: JSON.stringify(w.key), problem: text }, w.site));
      if (!isDrain(d.drain)) {
        problem(`the drain callback returned ${show(d.drain)}, not a drain made by haproxyDrain({...}) or commandDrain({...})`);
        continue;
      }
      const via = requirerHost(w.requirer);
      let made: ManifestDrain | undefined;
      if (d.drain.adapter === "haproxy") {
        const o = d.drain.options;
        const socket = o.socket ?? "/run/haproxy/admin.sock";
        const timeout = o.timeout ?? 30;
        if (typeof o.backend !== "string" || !HAPROXY_NAME.test(o.backend)) problem(`backend ${show(o.backend)} is not an HAProxy name (letters, digits, '_', '.', ':', '-')`);
        else if (typeof o.server !== "string" || !HAPROXY_NAME.test(o.server)) problem(`server ${show(o.server)} is not an HAProxy name (letters, digits, '_', '.', ':', '-')`);
        else if (typeof socket !== "string" || !socket.startsWith("/") || /[\u0000-\u001f\u007f]/.test(socket)) problem(`socket ${show(socket)} is not an absolute path without control characters`);
        else if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < 1) problem(`timeout ${show(timeout)} is not a whole number of seconds (1 or more)`);
        else made = { via, adapter: "haproxy", backend: o.backend, server: o.server, socket, timeoutSeconds: timeout };
      } else {
        const o = d.drain.options;
        const timeout = o.timeout ?? 60;
        const argvProblem = (argv: unknown) =>
          !Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== "string" || a.includes("\0"))
            ? "is not a non-empty list of strings without NUL"
            : argv[0] === ""
              ? "has an empty program name"
              : undefined;
        const leave = argvProblem(o.leave);
        const back = argvProblem(o.back);
        if (leave !== undefined) problem(`leave ${leave}`);
        else if (back !== undefined) problem(`back ${back}`);
        else if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < 1) problem(`timeout ${show(timeout)} is not a whole number of seconds (1 or more)`);
        else made = { via, adapter: "command", leave: [...o.leave], back: [...o.back], timeoutSeconds: timeout };
      }
      if (made !== undefined) drains.set(d.providerHost, [...(drains.get(d.providerHost) ?? []), made]);
    }
  }
  return { diagnostics, ...(Object.keys(rollout).length > 0 ? { rollout } : {}), drains };
}
