import { nearest } from "../diagnostics/nearest.js";
import { diagnostic, show, type Diagnostic, type Location } from "../diagnostics/diagnostic.js";
import type { ComponentModel, RequireModel, ResourceModel, SettingValue } from "../model.js";
import {
  isComponent,
  isComponentUse,
  type AnyComponent,
  type AnyComponentUse,
  type BuildContext,
  type RequireOptions,
} from "../../model/component.js";
import type { Key } from "../../model/key.js";
import { KEY, hasBrand } from "../../model/private/brand.js";
import { withScope } from "../../model/private/scope.js";
import { thrownDiagnostic } from "./thrown.js";
import { captureSites, type RawSite } from "../../model/private/site.js";
import { isResource, SITES, type Resource } from "../../model/resource.js";

/** A host as the instance builder needs it. */
export interface HostInput {
  readonly name: string;
  readonly address: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** The host's list, flattened, in order. */
  readonly items: readonly unknown[];
  readonly site: Location | undefined;
}

export interface InstanceContext {
  readonly environment: string;
  readonly environmentSite: Location | undefined;
  /** Environment-wide overrides by component name. */
  readonly overrides: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly ignored: ReadonlySet<string>;
  readonly locate: (sites: readonly RawSite[] | undefined) => Location | undefined;
  /** Where a thrown value came from. */
  readonly locateThrown: (thrown: unknown) => Location | undefined;
}

export interface BuiltHost {
  readonly resources: ResourceModel[];
  readonly components: ComponentModel[];
}

/** Thrown inside a build by requireOne when the value is not (yet) known. */
const DEFER = Symbol("depc.defer");

interface Provide {
  readonly key: string;
  readonly value: unknown;
  /** `provide(key, value, { optional: true })`: nobody requiring it is fine. */
  readonly optional: boolean;
  readonly site: Location | undefined;
  readonly provider: Instance;
}

interface Require {
  readonly key: string;
  readonly keySite: Location | undefined;
  readonly site: Location | undefined;
  readonly one: boolean;
  readonly options: RequireOptions;
  providers: readonly Provide[];
  /** `require(key, { drain })`: each provider's drain, as the callback returned it (checked in compiler/rollout.ts). */
  drains?: readonly { readonly provider: Provide; readonly drain: unknown }[];
}

class Instance {
  resources: Resource[] = [];
  children: Instance[] = [];
  provides: Provide[] = [];
  requires: Require[] = [];
  /** Fingerprint of each key's providers as this instance last saw them. */
  consumed = new Map<string, string>();
  deferred: Require | undefined;
  error: Diagnostic | undefined;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly definition: AnyComponent,
    readonly use: AnyComponentUse | undefined,
    readonly host: HostInput,
    readonly parent: Instance | undefined,
    readonly site: Location | undefined,
    readonly settings: Record<string, SettingValue>,
  ) {}
}

/**
 * Expands component instances on every host and runs their build
 * functions until provide/require settles: each round runs only the
 * instances whose required keys changed since they last looked (a
 * `requireOne` without its value defers the instance to the next round).
 * Values provided in a round are seen in the next, so the result does
 * not depend on the order builds run in.
 */
export function buildInstances(hosts: readonly HostInput[], context: InstanceContext): {
  hosts: Map<string, BuiltHost>;
  wiring: RequireModel[];
  diagnostics: Diagnostic[];
} {
  const diagnostics: Diagnostic[] = [];
  const topLevel = new Map<string, Instance[]>();
  for (const host of hosts) {
    topLevel.set(
      host.name,
      host.items.flatMap((item) => {
        if (!isComponent(item) && !isComponentUse(item)) return [];
        const made = makeInstance(item, host, undefined, context, diagnostics);
        return made === undefined ? [] : [made];
      }),
    );
  }
  const all = () => [...topLevel.values()].flatMap((list) => list.flatMap(descendants));

  let provided = new Map<string, Provide[]>();
  let pending = all();
  const maxRounds = pending.length + 3;
  let round = 0;
  for (; pending.length > 0 && round < maxRounds; round++) {
    for (const instance of pending) runTree(instance, provided, context, diagnostics);
    if (diagnostics.length > 0) return { hosts: new Map(), wiring: [], diagnostics };
    provided = collectProvides(all());
    pending = stale(all(), provided);
  }
  if (pending.length > 0) {
    const keys = [...new Set(pending.flatMap((i) => [...i.consumed.keys()]))].map((k) => JSON.stringify(k)).join(", ");
    diagnostics.push(diagnostic("unsettled", { rounds: round, keys }, pending[0]!.site));
    return { hosts: new Map(), wiring: [], diagnostics };
  }

  const instances = all();
  checkWiring(instances, provided, hosts, context, diagnostics);
  checkDuplicates(instances, diagnostics);
  const wiring: RequireModel[] = instances.flatMap((instance) =>
    instance.requires.map((r) => ({
      key: r.key,
      requirer: instance.id,
      site: r.site,
      providers: r.providers.map((p) => p.provider.id),
      ...(r.drains ? { drains: r.drains.map((d) => ({ provider: d.provider.provider.id, providerHost: d.provider.provider.host.name, drain: d.drain })) } : {}),
    })),
  );
  const built = new Map<string, BuiltHost>();
  for (const host of hosts) built.set(host.name, flattenHost(host, topLevel.get(host.name) ?? [], context));
  return { hosts: built, wiring, diagnostics };
}

function descendants(instance: Instance): Instance[] {
  return [instance, ...instance.children.flatMap(descendants)];
}

function makeInstance(
  item: AnyComponent | AnyComponentUse,
  host: HostInput,
  parent: Instance | undefined,
  context: InstanceContext,
  diagnostics: Diagnostic[],
): Instance | undefined {
  const use = isComponentUse(item) ? item : undefined;
  const definition = use ? use.component : (item as AnyComponent);
  if (context.ignored.has(definition.name)) return undefined;
  const name = use ? use.instanceName : definition.name;
  const site = context.locate(use ? use[SITES] : undefined) ?? (parent ? parent.site : host.site);
  const definitionSite = context.locate(definition[SITES]);
  const settings: Record<string, SettingValue> = {};
  for (const [k, value] of Object.entries(definition.defaults)) settings[k] = { value, source: "default", site: definitionSite };
  const layers: [Readonly<Record<string, unknown>> | undefined, "environment" | "host", Location | undefined, string][] = [
    [context.overrides[definition.name], "environment", context.environmentSite, `Environment ${JSON.stringify(context.environment)}`],
    [use?.overrides as Record<string, unknown> | undefined, "host", site, `${JSON.stringify(name)} on host ${JSON.stringify(host.name)}`],
  ];
  for (const [layer, source, at, scope] of layers) {
    for (const [k, value] of Object.entries(layer ?? {})) {
      if (!(k in settings)) {
        const known = Object.keys(definition.defaults).join(", ") || "none";
        const near = nearest(k, Object.keys(definition.defaults));
        const suggestion = near === undefined ? "" : ` Did you mean ${JSON.stringify(near)}?`;
        diagnostics.push(diagnostic("unknownSetting", { scope, setting: JSON.stringify(k), component: JSON.stringify(definition.name), suggestion, known }, at));
        continue;
      }
      settings[k] = { value, source, site: at };
    }
  }
  const id = parent ? `${parent.id}/${name}` : `${host.name}/${name}`;
  return new Instance(id, name, definition, use, host, parent, site, settings);
}

/** Runs an instance's build (and then its new children's). */
function runTree(instance: Instance, provided: ReadonlyMap<string, Provide[]>, context: InstanceContext, diagnostics: Diagnostic[]): void {
  instance.resources = [];
  instance.children = [];
  instance.provides = [];
  instance.requires = [];
  instance.consumed = new Map();
  instance.deferred = undefined;
  instance.error = undefined;
  const values = Object.freeze(Object.fromEntries(Object.entries(instance.settings).map(([k, v]) => [k, v.value])));
  const lookup = (key: Key<unknown>, options: RequireOptions = {}, one: boolean): Require => {
    const name = keyName(key);
    const all = provided.get(name) ?? [];
    instance.consumed.set(name, fingerprint(all));
    const providers = options.host === undefined ? all : all.filter((p) => p.provider.host.name === options.host);
    const record: Require = {
      key: name,
      keySite: context.locate(key[SITES]),
      site: context.locate(captureSites()),
      one,
      options,
      providers,
    };
    instance.requires.push(record);
    return record;
  };
  const ctx: BuildContext = {
    host: Object.freeze({ name: instance.host.name, address: instance.host.address, data: instance.host.data }),
    environment: Object.freeze({ name: context.environment }),
    name: instance.name,
    provide(key, value, options) {
      const optional = options?.optional === true;
      instance.provides.push({ key: keyName(key as Key<unknown>), value, optional, site: context.locate(captureSites()), provider: instance });
    },
    require(key, options) {
      const record = lookup(key as Key<unknown>, options, false);
      const drain = (options as { drain?: unknown } | undefined)?.drain;
      if (typeof drain === "function") record.drains = record.providers.map((p) => ({ provider: p, drain: (drain as (v: unknown) => unknown)(p.value) }));
      else if (drain !== undefined) record.drains = record.providers.map((p) => ({ provider: p, drain }));
      return Object.freeze(record.providers.map((p) => p.value)) as never;
    },
    requireOne(key, options) {
      const record = lookup(key as Key<unknown>, options, true);
      if (record.providers.length !== 1) {
        instance.deferred = record;
        throw DEFER;
      }
      return record.providers[0]!.value as never;
    },
  };
  const scope = { add: (item: object) => isResource(item) && instance.resources.push(item) };
  let returned: unknown;
  try {
    returned = withScope(scope, () => instance.definition.spec.build(values, ctx));
  } catch (thrown) {
    if (thrown !== DEFER) diagnostics.push(thrownDiagnostic(thrown, context.locateThrown(thrown) ?? instance.site));
    return;
  }
  const seen = new Set<object>(instance.resources);
  flattenPlaceables(returned, (item) => {
    if (isResource(item)) {
      if (!seen.has(item)) instance.resources.push(item);
      seen.add(item);
    } else if (isComponent(item) || isComponentUse(item)) {
      const child = makeInstance(item, instance.host, instance, context, diagnostics);
      if (child !== undefined) instance.children.push(child);
    } else {
      diagnostics.push(diagnostic("notPlaceable", { component: JSON.stringify(instance.id), found: show(item) }, instance.site));
    }
  });
  for (const child of instance.children) runTree(child, provided, context, diagnostics);
}

function flattenPlaceables(value: unknown, visit: (item: unknown) => void): void {
  if (value === undefined) return;
  if (Array.isArray(value)) for (const item of value) flattenPlaceables(item, visit);
  else visit(value);
}

function keyName(key: Key<unknown>): string {
  if (!hasBrand(key, KEY)) throw new TypeError(`provide/require expects a key made by key<T>("name"), got ${show(key)}`);
  return key.name;
}

function collectProvides(instances: readonly Instance[]): Map<string, Provide[]> {
  const map = new Map<string, Provide[]>();
  for (const instance of instances) {
    for (const p of instance.provides) {
      const list = map.get(p.key) ?? [];
      list.push(p);
      map.set(p.key, list);
    }
  }
  return map;
}

/** Instances that saw a key's providers differ from what they are now. */
function stale(instances: readonly Instance[], provided: ReadonlyMap<string, Provide[]>): Instance[] {
  const out: Instance[] = [];
  for (const instance of instances) {
    // A child is rebuilt with its parent; list only the outermost stale one.
    if (instance.parent !== undefined && out.some((o) => instance.id.startsWith(`${o.id}/`))) continue;
    for (const [key, seen] of instance.consumed) {
      if (fingerprint(provided.get(key) ?? []) !== seen) {
        out.push(instance);
        break;
      }
    }
  }
  return out;
}

const identities = new WeakMap<object, number>();
let nextIdentity = 0;

/** A comparable rendering of providers and their values (objects other than plain data by identity). */
function fingerprint(provides: readonly Provide[]): string {
  const render = (value: unknown): unknown => {
    if (value === null || typeof value !== "object") return typeof value === "function" ? `fn#${identityOf(value)}` : value;
    if (Array.isArray(value)) return value.map(render);
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return `obj#${identityOf(value)}`;
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, render((value as Record<string, unknown>)[k])]));
  };
  return JSON.stringify(provides.map((p) => [p.provider.id, render(p.value)]));
}

function identityOf(value: object): number {
  let id = identities.get(value);
  if (id === undefined) identities.set(value, (id = nextIdentity++));
  return id;
}

function checkWiring(
  instances: readonly Instance[],
  provided: ReadonlyMap<string, Provide[]>,
  hosts: readonly HostInput[],
  context: InstanceContext,
  diagnostics: Diagnostic[],
): void {
  const hostNames = new Set(hosts.map((h) => h.name));
  const required = new Set<string>();
  for (const instance of instances) {
    for (const r of instance.requires) {
      required.add(r.key);
      const requirer = JSON.stringify(instance.id);
      const key = JSON.stringify(r.key);
      const notes = r.keySite ? [{ message: `key ${key} is declared here`, location: r.keySite }] : [];
      if (r.options.host !== undefined && !hostNames.has(r.options.host)) {
        diagnostics.push(diagnostic("requireUnknownHost", { requirer, key, host: JSON.stringify(r.options.host), env: JSON.stringify(context.environment) }, r.site));
      } else if (r.providers.length === 0 && !(r.options.optional === true && !r.one)) {
        const where = r.options.host === undefined ? "" : ` on host ${JSON.stringify(r.options.host)}`;
        diagnostics.push(diagnostic("unsatisfiedRequire", { requirer, key, where }, r.site, notes));
      } else if (r.one && r.providers.length > 1) {
        const candidates = r.providers.map((p) => JSON.stringify(p.provider.id)).join(", ");
        diagnostics.push(
          diagnostic(
            "ambiguousRequire",
            { requirer, key, count: r.providers.length, candidates },
            r.site,
            r.providers.map((p) => ({ message: `provided by ${JSON.stringify(p.provider.id)} here`, location: p.site })),
          ),
        );
      }
    }
  }
  for (const [key, provides] of provided) {
    if (required.has(key)) continue;
    for (const p of provides) {
      if (p.optional) continue;
      diagnostics.push(diagnostic("unusedProvide", { provider: JSON.stringify(p.provider.id), key: JSON.stringify(key) }, p.site));
    }
  }
}

function checkDuplicates(instances: readonly Instance[], diagnostics: Diagnostic[]): void {
  const byId = new Map<string, Instance>();
  for (const instance of instances) {
    const first = byId.get(instance.id);
    if (first === undefined) {
      byId.set(instance.id, instance);
      continue;
    }
    diagnostics.push(
      diagnostic(
        "duplicateInstance",
        { host: JSON.stringify(instance.host.name), name: JSON.stringify(instance.id.slice(instance.host.name.length + 1)) },
        instance.site,
        [{ message: "the first one is placed here", location: first.site }],
      ),
    );
  }
}

/** The host's resources and instances in declaration order: each instance's own resources, then its children. */
function flattenHost(host: HostInput, instances: readonly Instance[], context: InstanceContext): BuiltHost {
  const resources: ResourceModel[] = [];
  const components: ComponentModel[] = [];
  let index = 0;
  const addResource = (resource: Resource, owner: string | undefined) => {
    resources.push({
      kind: resource.kind,
      props: resource.props as Record<string, unknown>,
      site: context.locate(resource[SITES]),
      declarationIndex: index++,
      owner,
      origin: resource,
    });
  };
  const addInstance = (instance: Instance) => {
    components.push({
      id: instance.id,
      name: instance.name,
      component: instance.definition.name,
      host: host.name,
      parent: instance.parent?.id,
      settings: instance.settings,
      site: instance.site,
      definitionSite: context.locate(instance.definition[SITES]),
      declarationIndex: index++,
      definition: instance.definition,
      use: instance.use,
      after: instance.definition.spec.after ?? [],
    });
    for (const resource of instance.resources) addResource(resource, instance.id);
    for (const child of instance.children) addInstance(child);
  };
  let next = 0;
  for (const item of host.items) {
    if (isResource(item)) addResource(item, undefined);
    else if ((isComponent(item) || isComponentUse(item)) && next < instances.length) {
      const definition = isComponentUse(item) ? item.component : item;
      if (context.ignored.has(definition.name)) continue;
      addInstance(instances[next++]!);
    }
  }
  return { resources, components };
}
