import { createHash } from "node:crypto";
import type { ComponentModel, EnvironmentModel, HostModel, ResourceModel, SettingSource } from "../../compiler/model.js";
import { place, relations, resolveReference, resourceKey, resourceLabel, type Analysis } from "./analyze.js";
import { isComponent, isComponentUse } from "../../model/component.js";
import { isSecret, isSecretText } from "../../model/secret.js";
import { isResource } from "../../model/resource.js";

/**
 * `depc inspect`: the model as the compiler sees it, after evaluation.
 * One data structure ({@link InspectView}, the `--json` output) and one
 * plain-text rendering of it. Both are deterministic: model order
 * everywhere (which is declaration order), paths relative to the cwd.
 */
export interface InspectView {
  readonly environment: string;
  readonly site: string | null;
  /** Deploy waves: hosts of wave k wait only for hosts of earlier waves. */
  readonly waves: readonly (readonly string[])[];
  readonly hosts: readonly HostView[];
  /** Every resolved require: who requires what from whom. */
  readonly wiring: readonly WireView[];
}

export interface HostView {
  readonly name: string;
  readonly address: string;
  readonly user: string | null;
  readonly port: number | null;
  readonly data: unknown;
  readonly site: string | null;
  /** 1-based deploy wave, null when the waves could not be computed. */
  readonly wave: number | null;
  /** Component instances, parents before their children. */
  readonly components: readonly ComponentView[];
  /** Resources in run order (resources without one, if any, last in declaration order). */
  readonly resources: readonly ResourceView[];
}

export interface SettingView {
  readonly value: unknown;
  readonly source: SettingSource;
  readonly site: string | null;
}

export interface ComponentView {
  readonly id: string;
  readonly name: string;
  readonly component: string;
  readonly parent: string | null;
  /** Where the instance was placed: the host list, a `.with()` call, or the parent's build. */
  readonly site: string | null;
  /** Where the component was defined (`component({...})`). */
  readonly definition: string | null;
  readonly settings: Readonly<Record<string, SettingView>>;
  readonly requires: readonly { readonly key: string; readonly from: readonly string[]; readonly site: string | null }[];
  readonly provides: readonly { readonly key: string; readonly to: readonly string[] }[];
  /** Things on the same host it is converged after (its `after` option). */
  readonly after: readonly string[];
}

export interface ResourceView {
  readonly kind: string;
  readonly key: string;
  readonly owner: string | null;
  readonly site: string | null;
  /** 1-based step index in the host's bundle; null when the host could not be ordered. */
  readonly order: number | null;
  readonly after: readonly string[];
  readonly before: readonly string[];
  /** The other options; `content` as its size and digest. */
  readonly props: Readonly<Record<string, unknown>>;
}

export interface WireView {
  readonly key: string;
  readonly requirer: string;
  readonly providers: readonly string[];
  readonly site: string | null;
}

export function inspectView(analysis: Analysis, cwd: string): InspectView {
  const env = analysis.environment;
  const wave = new Map<string, number>();
  analysis.waves.forEach((hosts, i) => hosts.forEach((h) => wave.set(h, i + 1)));
  return {
    environment: env.name,
    site: place(env.site, cwd),
    waves: analysis.waves.map((w) => [...w]),
    hosts: env.hosts.map((host) => hostView(analysis, host, wave.get(host.name) ?? null, cwd)),
    wiring: env.wiring.map((w) => ({ key: w.key, requirer: w.requirer, providers: [...w.providers], site: place(w.site, cwd) })),
  };
}

function hostView(analysis: Analysis, host: HostModel, wave: number | null, cwd: string): HostView {
  const env = analysis.environment;
  const label = (target: unknown) => referenceLabel(analysis, host, target);
  const resources = [...host.resources].sort((a, b) => orderKey(analysis, a) - orderKey(analysis, b) || a.declarationIndex - b.declarationIndex);
  return {
    name: host.name,
    address: host.address,
    user: host.user ?? null,
    port: host.port ?? null,
    data: plain(host.data),
    site: place(host.site, cwd),
    wave,
    components: host.components.map((c) => componentView(env, c, label, cwd)),
    resources: resources.map((r) => {
      const { after, before } = relations(r);
      return {
        kind: r.kind,
        key: resourceKey(analysis, r),
        owner: r.owner ?? null,
        site: place(r.site, cwd),
        order: analysis.runIndex.get(r.origin) ?? null,
        after: after.map(label),
        before: before.map(label),
        props: resourceProps(r, (resource) => analysis.checked.get(resource)?.key),
      };
    }),
  };
}

const orderKey = (analysis: Analysis, r: ResourceModel) => analysis.runIndex.get(r.origin) ?? Number.MAX_SAFE_INTEGER;

function componentView(env: EnvironmentModel, c: ComponentModel, label: (target: unknown) => string, cwd: string): ComponentView {
  const settings: Record<string, SettingView> = {};
  for (const [name, s] of Object.entries(c.settings)) settings[name] = { value: plain(s.value), source: s.source, site: place(s.site, cwd) };
  const provides = new Map<string, string[]>();
  for (const w of env.wiring) {
    if (!w.providers.includes(c.id)) continue;
    const to = provides.get(w.key) ?? [];
    if (!to.includes(w.requirer)) to.push(w.requirer);
    provides.set(w.key, to);
  }
  return {
    id: c.id,
    name: c.name,
    component: c.component,
    parent: c.parent ?? null,
    site: place(c.site, cwd),
    definition: place(c.definitionSite, cwd),
    settings,
    requires: env.wiring.filter((w) => w.requirer === c.id).map((w) => ({ key: w.key, from: [...w.providers], site: place(w.site, cwd) })),
    provides: [...provides].map(([key, to]) => ({ key, to })),
    after: c.after.map(label),
  };
}

/** What an `after`/`before` entry names on this host, for people. */
function referenceLabel(analysis: Analysis, host: HostModel, target: unknown): string {
  const found = resolveReference(host, target);
  if (found.resources.length > 0) return found.resources.map((r) => resourceLabel(analysis, r)).join(", ");
  if (found.components.length > 0) return found.components.map((c) => `component ${c.id}`).join(", ");
  if (isComponentUse(target)) return `component ${target.instanceName} (not on ${host.name})`;
  if (isComponent(target)) return `component ${target.name} (not on ${host.name})`;
  if (isResource(target)) return `${target.kind} ${String((target.props as { path?: unknown }).path ?? "")} (not on ${host.name})`;
  return JSON.stringify(plain(target)) ?? "undefined";
}

function resourceProps(r: ResourceModel, keyOf: (resource: object) => string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // As declared, before secrets were resolved (inspect resolves them to placeholders).
  const declared = (r.origin as { props?: Record<string, unknown> }).props ?? {};
  for (const [name, value] of Object.entries(r.props)) {
    if (name === "after" || name === "before" || value === undefined) continue;
    if (holdsSecret(declared[name])) {
      out[name] = plain(declared[name], new Set(), keyOf);
    } else if (name === "content" && (typeof value === "string" || value instanceof Uint8Array)) {
      const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
      out.content = { bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
    } else out[name] = plain(value, new Set(), keyOf);
  }
  return out;
}

function holdsSecret(value: unknown, depth = 0): boolean {
  if (isSecret(value) || isSecretText(value)) return true;
  if (depth > 3 || value === null || typeof value !== "object" || isResource(value)) return false;
  return Object.values(value).some((v) => holdsSecret(v, depth + 1));
}

/** Any model value as JSON-safe data, deterministically (object keys in their own order). */
export function plain(value: unknown, seen: Set<object> = new Set(), keyOf: (resource: object) => string | undefined = () => undefined): unknown {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (value === undefined) return null;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return `[function${value.name ? ` ${value.name}` : ""}]`;
  if (typeof value === "symbol") return value.toString();
  if (value instanceof Uint8Array) return { bytes: value.length };
  if (isResource(value)) {
    // Its key on the host (a Supervisor has no path: its base or config directory).
    const { path, name, base, confDir } = value.props as { path?: unknown; name?: unknown; base?: unknown; confDir?: unknown };
    const key = keyOf(value) ?? [path, name, base, confDir].find((v) => typeof v === "string");
    return `[${value.kind} ${String(key ?? "")}]`;
  }
  if (isComponentUse(value)) return `[component ${value.instanceName}]`;
  if (isComponent(value)) return `[component ${value.name}]`;
  // A secret reference shows its key, as documented in docs/secrets.md; never a value.
  if (isSecret(value)) return { key: value.key };
  if (isSecretText(value)) return { secretText: value.parts.map((p) => (typeof p === "string" ? p : { key: p.key })) };
  if (seen.has(value as object)) return "[circular]";
  seen.add(value as object);
  try {
    if (Array.isArray(value)) return value.map((v) => plain(v, seen, keyOf));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as object)) out[k] = plain(v, seen, keyOf);
    return out;
  } finally {
    seen.delete(value as object);
  }
}

// ---- plain text ----

const MAX_VALUE = 120;

/** Compact JSON, cut to {@link MAX_VALUE} characters for reading (`--json` has it all). */
function showValue(value: unknown): string {
  const text = JSON.stringify(value) ?? "null";
  return text.length <= MAX_VALUE ? text : `${text.slice(0, MAX_VALUE - 1)}… (${text.length} characters)`;
}

/** Mode numbers are octal to people. */
function showProp(name: string, value: unknown): string {
  if (name === "mode" && typeof value === "number") return `0${value.toString(8)}`;
  if (name === "content" && typeof value === "object" && value !== null && "bytes" in value) {
    const bytes = (value as { bytes: number }).bytes;
    return `${bytes} byte${bytes === 1 ? "" : "s"}`;
  }
  return showValue(value);
}

/** A cell wider than this does not widen its column (one long value would push every row). */
const MAX_COLUMN = 40;

/** Columns padded to the widest cell (up to {@link MAX_COLUMN}), trailing blanks trimmed. */
function table(rows: readonly (readonly string[])[], indent: string): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length <= MAX_COLUMN ? cell.length : 0)));
  return rows.map((row) => (indent + row.map((cell, i) => (i + 1 < row.length ? cell.padEnd(widths[i]!) : cell)).join("  ")).trimEnd());
}

const at = (site: string | null) => (site === null ? "" : `  ${site}`);

export function renderInspect(view: InspectView): string {
  const out: string[] = [];
  out.push(`environment ${view.environment}${at(view.site)}`);
  if (view.waves.length > 0) {
    out.push("waves");
    out.push(...table(view.waves.map((hosts, i) => [`${i + 1}`, hosts.join(", ")]), "  "));
  } else out.push("waves: none (the hosts could not be ordered)");
  for (const host of view.hosts) {
    out.push("");
    const facts = [`address ${host.address}`];
    if (host.user !== null) facts.push(`user ${host.user}`);
    if (host.port !== null) facts.push(`port ${host.port}`);
    facts.push(host.wave === null ? "no wave" : `wave ${host.wave}`);
    out.push(`host ${host.name} (${facts.join(", ")})${at(host.site)}`);
    if (host.data !== null && typeof host.data === "object" && Object.keys(host.data).length > 0) out.push(`  data ${showValue(host.data)}`);
    const resourcesOf = (owner: string | null) => host.resources.filter((r) => r.owner === owner);
    const children = (parent: string | null) => host.components.filter((c) => c.parent === parent);
    const emitResources = (list: readonly ResourceView[], indent: string) => {
      for (const r of list) {
        const attrs = Object.entries(r.props)
          .filter(([name]) => name !== "path")
          .map(([name, value]) => `${name} ${showProp(name, value)}`);
        out.push(`${indent}${r.order === null ? "-" : `#${r.order}`} ${r.kind} ${r.key}${attrs.length > 0 ? ` (${attrs.join(", ")})` : ""}${at(r.site)}`);
        for (const a of r.after) out.push(`${indent}    after ${a}`);
        for (const b of r.before) out.push(`${indent}    before ${b}`);
      }
    };
    const emitComponent = (c: ComponentView, indent: string) => {
      const kind = c.name === c.component ? `component ${c.component}` : `component ${c.component} named ${c.name}`;
      out.push(`${indent}${c.id}: ${kind}${at(c.site)}`);
      const inner = `${indent}  `;
      if (c.definition !== null) out.push(`${inner}defined at ${c.definition}`);
      const settings = Object.entries(c.settings);
      if (settings.length > 0) {
        out.push(`${inner}settings`);
        out.push(...table(settings.map(([name, s]) => [name, showValue(s.value), s.source, s.site ?? ""]), `${inner}  `));
      }
      for (const a of c.after) out.push(`${inner}after ${a}`);
      for (const r of c.requires) {
        out.push(`${inner}requires ${JSON.stringify(r.key)} from ${r.from.length > 0 ? r.from.join(", ") : "nobody"}${at(r.site)}`);
      }
      for (const p of c.provides) out.push(`${inner}provides ${JSON.stringify(p.key)} to ${p.to.join(", ")}`);
      emitResources(resourcesOf(c.id), inner);
      for (const child of children(c.id)) emitComponent(child, inner);
    };
    emitResources(resourcesOf(null), "  ");
    for (const c of children(null)) emitComponent(c, "  ");
  }
  return `${out.join("\n")}\n`;
}
