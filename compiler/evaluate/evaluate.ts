import { diagnostic, show, type Diagnostic, type Location } from "../diagnostics/diagnostic.js";
import type { LoadedModel } from "../load/load.js";
import type { EnvironmentModel, HostModel, ResourceModel } from "../model.js";
import * as stdlib from "../../stdlib/index.js";
import { isEnvironment, type Environment, type HostOptions, type HostSpec, type Placeable } from "../../stdlib/environment.js";
import { isResource, SITES } from "../../stdlib/resource.js";
import { ModuleLoader } from "./module-loader.js";
import { SiteMapper } from "./sites.js";

export type EvaluateResult =
  | { readonly ok: true; readonly environment: EnvironmentModel }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/**
 * Phase 2: run the checked model and turn what it declares into plain data,
 * every object carrying the source location that declared it.
 */
export function evaluate(loaded: LoadedModel): EvaluateResult {
  const sites = new SiteMapper(loaded.modules, loaded.sources);
  const exported = runEntry(loaded, sites);
  if (!exported.ok) return exported;
  const value = (exported.value as { default?: unknown } | undefined)?.default;
  if (!isEnvironment(value)) {
    const at: Location = { file: loaded.entry, line: 1, column: 1 };
    return { ok: false, diagnostics: [diagnostic("noDefaultEnvironment", { found: describe(value) }, at)] };
  }
  return modelOf(value, { sites, sources: loaded.sources, defaultName: loaded.defaultName });
}

export interface ModelContext {
  /** Maps declaration sites; without one, sites are left unknown. */
  readonly sites?: SiteMapper;
  readonly sources?: ReadonlyMap<string, string>;
  readonly defaultName: string;
}

/** Turns an evaluated `environment(...)` value into the compiler's model. */
export function modelOf(value: Environment, context: ModelContext): EvaluateResult {
  const sites = context.sites;
  const envSite = sites?.locate(value[SITES]);
  const diagnostics: Diagnostic[] = [];
  const hosts: HostModel[] = [];
  for (const [name, spec] of Object.entries(value.options.hosts ?? {})) {
    const options = normalizeHost(spec);
    if (options.ignore === true) continue;
    const hostSite = locateHostKey(context.sources ?? new Map(), envSite, name);
    const resources: ResourceModel[] = [];
    flatten(options.components ?? [], (item) => {
      if (!isResource(item)) {
        diagnostics.push(diagnostic("notAResource", { host: JSON.stringify(name), found: describe(item) }, hostSite));
        return;
      }
      resources.push({
        kind: item.kind,
        props: item.props as Record<string, unknown>,
        site: sites?.locate(item[SITES]),
        declarationIndex: resources.length,
      });
    });
    hosts.push({
      name,
      address: options.address ?? name,
      user: options.user,
      port: options.port,
      data: options.data ?? {},
      resources,
      site: hostSite,
    });
  }
  if (diagnostics.length > 0) return { ok: false, diagnostics };
  return { ok: true, environment: { name: value.options.name ?? context.defaultName, hosts, site: envSite } };
}

function runEntry(loaded: LoadedModel, sites: SiteMapper): { ok: true; value: unknown } | { ok: false; diagnostics: Diagnostic[] } {
  const frames = new WeakMap<object, NodeJS.CallSite[]>();
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  // Keep the structured frames of anything the model throws, to point at its line.
  Error.prepareStackTrace = (error, callSites) => {
    if (typeof error === "object" && error !== null) frames.set(error, callSites);
    return String(error);
  };
  try {
    return { ok: true, value: new ModuleLoader(loaded.modules, stdlib).load(loaded.entry) };
  } catch (thrown) {
    if (typeof thrown === "object" && thrown !== null) void (thrown as { stack?: unknown }).stack;
    const callSites = typeof thrown === "object" && thrown !== null ? frames.get(thrown) : undefined;
    const location = sites.locate(
      callSites?.map((s) => ({ file: s.getFileName() ?? "", line: s.getLineNumber() ?? 0, column: s.getColumnNumber() ?? 0 })),
    );
    const message = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
    return { ok: false, diagnostics: [diagnostic("evaluationThrew", { message }, location ?? { file: loaded.entry, line: 1, column: 1 })] };
  } finally {
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
  }
}

function normalizeHost(spec: HostSpec): HostOptions {
  return Array.isArray(spec) ? { components: spec } : (spec as HostOptions);
}

function flatten(items: readonly Placeable[], visit: (item: unknown) => void): void {
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
function locateHostKey(sources: ReadonlyMap<string, string>, envSite: Location | undefined, name: string): Location | undefined {
  if (envSite === undefined) return undefined;
  const lines = (sources.get(envSite.file) ?? "").split("\n");
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const key = new RegExp(`(^|[\\s{,])(["'\`]?)${escaped}\\2\\s*:`);
  for (let i = envSite.line - 1; i < lines.length; i++) {
    const match = key.exec(lines[i]!);
    if (match) return { file: envSite.file, line: i + 1, column: match.index + match[1]!.length + 1, length: name.length + match[2]!.length * 2 };
  }
  return envSite;
}
