import { diagnostic, show, type Diagnostic, type Location } from "../diagnostics/diagnostic.js";
import type { LoadedModel } from "../load/load.js";
import type { EnvironmentModel, HostModel } from "../model.js";
import * as stdlib from "../../model/index.js";
import { isComponent, isComponentUse } from "../../model/component.js";
import { isEnvironment, type Environment, type HostOptions, type HostSpec } from "../../model/environment.js";
import type { RawSite } from "../../model/private/site.js";
import { isResource, SITES } from "../../model/resource.js";
import { isSecret, isSecretText } from "../../model/secret.js";
import { recordSecretSite } from "../secrets/sensitive.js";
import { guardEvaluation } from "./guard.js";
import { buildInstances, type HostInput } from "./instances.js";
import { ModuleLoader } from "./module-loader.js";
import { SiteMapper } from "./sites.js";
import { thrownDiagnostic } from "./thrown.js";

export type EvaluateResult =
  | { readonly ok: true; readonly environment: EnvironmentModel }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/**
 * Phase 2: run the checked model — its modules, then its components' build
 * functions — and turn what it declares into plain data, every object
 * carrying the source location that declared it.
 */
export async function evaluate(loaded: LoadedModel, options: { readonly timeoutMs?: number } = {}): Promise<EvaluateResult> {
  const sites = new SiteMapper(loaded.modules, loaded.sources);
  return withThrownSites(sites, async (locateThrown) => {
    const guarded = await guardEvaluation(() => evaluateNow(loaded, sites, locateThrown), {
      timeoutMs: options.timeoutMs ?? DEFAULT_EVAL_TIMEOUT_MS,
      locate: locateThrown,
    });
    if (guarded.diagnostics.length === 0) return guarded.value!;
    const earlier = guarded.value?.ok === false ? guarded.value.diagnostics : [];
    return { ok: false, diagnostics: [...earlier, ...guarded.diagnostics] };
  });
}

/** How long evaluating a model may take: generous, it is a safety net for endless loops. */
export const DEFAULT_EVAL_TIMEOUT_MS = 60_000;

function evaluateNow(loaded: LoadedModel, sites: SiteMapper, locateThrown: (thrown: unknown) => Location | undefined): EvaluateResult {
  {
    let exported: unknown;
    try {
      exported = new ModuleLoader(loaded.modules, stdlib, loaded.cacheDir).load(loaded.entry);
    } catch (thrown) {
      const at = locateThrown(thrown) ?? { file: loaded.entry, line: 1, column: 1 };
      return { ok: false, diagnostics: [thrownDiagnostic(thrown, at)] };
    }
    const value = (exported as { default?: unknown } | undefined)?.default;
    if (!isEnvironment(value)) {
      const at: Location = { file: loaded.entry, line: 1, column: 1 };
      return { ok: false, diagnostics: [diagnostic("noDefaultEnvironment", { found: describe(value) }, at)] };
    }
    const result = modelOf(value, { sites, sources: loaded.sources, defaultName: loaded.defaultName, locateThrown });
    if (result.ok) recordSecretSites(result.environment, sites);
    return result;
  }
}

/** Locates every secret() reference the resources hold, for diagnostics about missing keys. */
function recordSecretSites(environment: EnvironmentModel, sites: SiteMapper): void {
  const walk = (value: unknown, seen: Set<object>): void => {
    if (typeof value !== "object" || value === null || seen.has(value)) return;
    seen.add(value);
    if (isSecret(value)) return recordSecretSite(value, sites.locate(value[SITES]));
    if (isSecretText(value)) return value.parts.forEach((p) => walk(p, seen));
    if (isResource(value) || isComponent(value) || isComponentUse(value)) return;
    if (Array.isArray(value)) return value.forEach((v) => walk(v, seen));
    if (Object.getPrototypeOf(value) === Object.prototype) Object.values(value).forEach((v) => walk(v, seen));
  };
  // One set for all: a value seen once has had its secrets recorded (102,000 resources in a large build, many sharing values).
  const seen = new Set<object>();
  for (const host of environment.hosts) for (const resource of host.resources) walk(resource.props, seen);
}

export interface ModelContext {
  /** Maps declaration sites; without one, sites are unknown. */
  readonly sites?: SiteMapper;
  readonly sources?: ReadonlyMap<string, string>;
  readonly defaultName: string;
  readonly locateThrown?: (thrown: unknown) => Location | undefined;
}

/** Turns an evaluated `environment(...)` value into the compiler's model. */
export function modelOf(value: Environment, context: ModelContext): EvaluateResult {
  const locate = (raw: readonly RawSite[] | undefined) => context.sites?.locate(raw);
  const envSite = locate(value[SITES]);
  const name = value.options.name ?? context.defaultName;
  const diagnostics: Diagnostic[] = [];
  const inputs: (HostInput & { spec: HostOptions })[] = [];
  const envLines = envSite === undefined ? [] : (context.sources?.get(envSite.file) ?? "").split("\n");
  // Hosts are usually written in their object's order: each search starts at the previous host's line.
  let searchFrom = envSite === undefined ? 0 : envSite.line - 1;
  for (const [hostName, spec] of Object.entries(value.options.hosts ?? {})) {
    const options = normalizeHost(spec);
    if (options.ignore === true) continue;
    const site = locateHostKey(envLines, envSite, hostName, searchFrom);
    if (site !== envSite && site !== undefined) searchFrom = site.line - 1;
    const items: unknown[] = [];
    flatten(options.components ?? [], (item) => {
      if (isResource(item) || isComponent(item) || isComponentUse(item)) items.push(item);
      else diagnostics.push(diagnostic("notAResource", { host: JSON.stringify(hostName), found: describe(item) }, site));
    });
    const data = (options.data ?? {}) as Record<string, unknown>;
    inputs.push({ name: hostName, address: options.address ?? hostName, data, items, site, spec: options });
  }
  if (diagnostics.length > 0) return { ok: false, diagnostics };

  const built = buildInstances(inputs, {
    environment: name,
    environmentSite: envSite,
    overrides: (value.options.settings ?? {}) as Record<string, Record<string, unknown>>,
    ignored: new Set(value.options.ignore ?? []),
    locate,
    locateThrown: context.locateThrown ?? (() => undefined),
  });
  if (built.diagnostics.length > 0) return { ok: false, diagnostics: built.diagnostics };
  const hosts: HostModel[] = inputs.map((input) => ({
    name: input.name,
    address: input.address,
    user: input.spec.user,
    port: input.spec.port,
    data: input.data,
    resources: built.hosts.get(input.name)!.resources,
    components: built.hosts.get(input.name)!.components,
    site: input.site,
  }));
  const removal = value.options.removal;
  if (removal !== undefined && removal !== "remove" && removal !== "report") {
    return { ok: false, diagnostics: [diagnostic("invalidRemoval", { value: describe(removal) }, envSite)] };
  }
  const rollout = value.options.rollout;
  return {
    ok: true,
    environment: { name, hosts, site: envSite, wiring: built.wiring, ...(removal === "report" ? { removal } : {}), ...(rollout !== undefined ? { rollout } : {}) },
  };
}

/**
 * Runs `body` with the engine keeping the structured call sites of
 * anything thrown, so that an exception from the model is reported at the
 * user's line — not as a stack trace.
 */
async function withThrownSites<T>(sites: SiteMapper, body: (locateThrown: (thrown: unknown) => Location | undefined) => Promise<T>): Promise<T> {
  const frames = new WeakMap<object, NodeJS.CallSite[]>();
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  Error.prepareStackTrace = (error, callSites) => {
    if (typeof error === "object" && error !== null) frames.set(error, callSites);
    return String(error);
  };
  const locateThrown = (thrown: unknown): Location | undefined => {
    if (typeof thrown !== "object" || thrown === null) return undefined;
    void (thrown as { stack?: unknown }).stack; // the engine formats the stack lazily
    const callSites = frames.get(thrown);
    return sites.locate(
      callSites?.map((s) => ({ file: s.getFileName() ?? "", line: s.getLineNumber() ?? 0, column: s.getColumnNumber() ?? 0 })),
    );
  };
  try {
    return await body(locateThrown);
  } finally {
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
  }
}

function normalizeHost(spec: HostSpec): HostOptions {
  return Array.isArray(spec) ? { components: spec } : (spec as HostOptions);
}

function flatten(items: readonly unknown[], visit: (item: unknown) => void): void {
  for (const item of items) {
    if (Array.isArray(item)) flatten(item, visit);
    else visit(item);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "function") return "a function (call it?)";
  return show(value);
}

/**
 * Hosts are object keys, which the engine does not locate; find the key's
 * line in the environment module below the environment() call instead.
 */
function locateHostKey(lines: readonly string[], envSite: Location | undefined, name: string, from: number): Location | undefined {
  if (envSite === undefined) return undefined;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const key = new RegExp(`(^|[\\s{,])(["'\`]?)${escaped}\\2\\s*:`);
  // From `from` to the end, then the lines before it: linear in the source for hosts in order
  // (a search from the top for each host took 2 s for 1,000 hosts).
  const start = envSite.line - 1;
  for (const [first, end] of [[Math.max(from, start), lines.length], [start, Math.max(from, start)]] as const) {
    for (let i = first; i < end; i++) {
      const match = key.exec(lines[i]!);
      if (match) return { file: envSite.file, line: i + 1, column: match.index + match[1]!.length + 1, length: name.length + match[2]!.length * 2 };
    }
  }
  return envSite;
}
