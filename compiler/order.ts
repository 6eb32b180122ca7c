import { diagnostic, type Diagnostic, type Location, type Note } from "./diagnostics/diagnostic.js";
import type { EnvironmentModel, HostModel } from "./model.js";
import type { CheckedResource, KindDefinition, Reference } from "../kinds/kind.js";
import { ancestors, type CheckedHost } from "./validate.js";
import { isComponent, isComponentUse } from "../model/component.js";
import { isResource } from "../model/resource.js";

/** Why one thing must come before another: shown in cycle diagnostics. */
interface Edge {
  readonly to: number;
  readonly reason: string;
  readonly site: Location | undefined;
  /** The start of a component, to one of its resources of a collected kind (see contractGroups). */
  readonly componentStart?: true;
}

interface GraphNode {
  label: string;
  /** Tie-break: declaration order. */
  readonly rank: number;
  readonly resource?: CheckedResource;
  edges: Edge[];
  /** A collected resource whose group's first member stands for it in the graph. */
  absorbed?: boolean;
}

export interface OrderedEnvironment {
  /** Each host's resources in run order. */
  readonly hosts: ReadonlyMap<string, readonly CheckedResource[]>;
  /** Per host: the reactions (`kind:key`) each resource owes when it changes. */
  readonly notifications: ReadonlyMap<string, ReadonlyMap<CheckedResource, readonly string[]>>;
  /** Hosts grouped in deploy waves: every provider's host is in an earlier wave than its requirers'. */
  readonly waves: readonly (readonly string[])[];
  /** Per host (every host of the environment): the hosts it waits for when deploying, see {@link crossHostDependencies}. */
  readonly after: ReadonlyMap<string, readonly string[]>;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Phase 4: a stable order per host and the waves of hosts for deploying.
 *
 * Within a host, each component instance is a pair of nodes (start, end)
 * around its resources and sub-components, so "component A before B"
 * is one edge, end(A) → start(B), however many resources each has.
 * Edges come from parent directories, explicit `after`/`before`, a
 * component's `after`, and provide/require on the same host. Among the
 * nodes free to go, the earliest declared goes first: the order never
 * depends on map iteration or hashing.
 */
export function orderEnvironment(env: EnvironmentModel, checked: readonly CheckedHost[]): OrderedEnvironment {
  const diagnostics: Diagnostic[] = [];
  const hosts = new Map<string, CheckedResource[]>();
  const notifications = new Map<string, Map<CheckedResource, string[]>>();
  for (const { host, resources } of checked) {
    const owed = new Map<CheckedResource, string[]>();
    notifications.set(host.name, owed);
    const graph = hostGraph(host, resources, env, owed, diagnostics);
    const groups = contractGroups(graph);
    const sorted = topologicalOrder(graph);
    if (sorted.cycle) {
      diagnostics.push(cycleDiagnostic("cycleInHost", { host: JSON.stringify(host.name) }, graph, sorted.cycle));
      continue;
    }
    const order: CheckedResource[] = [];
    for (const i of sorted.order) {
      const group = groups.get(i);
      if (group !== undefined) for (const m of group) order.push(graph[m]!.resource!);
      else if (graph[i]!.resource !== undefined && !graph[i]!.absorbed) order.push(graph[i]!.resource!);
    }
    hosts.set(host.name, order);
  }
  const dependencies = crossHostDependencies(env);
  const waves = hostWaves(env, dependencies, diagnostics);
  const names = env.hosts.map((h) => h.name);
  const after = new Map(
    names.map((host) => {
      const waitsFor = new Set(dependencies.filter((d) => d.to === host).map((d) => d.from));
      return [host, names.filter((n) => waitsFor.has(n))] as const;
    }),
  );
  return { hosts, notifications, waves, after, diagnostics };
}

/** One host waiting for another, with the first require that makes it wait (for cycle diagnostics). */
export interface HostDependency {
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  readonly site: Location | undefined;
}

/**
 * The one place that decides which host waits for which: a host waits for
 * the hosts whose components provide what its components require (same-host
 * wiring orders resources instead). One entry per pair, in wiring order.
 * The manifest records it per host (`after`, in environment order) and as
 * waves; `depc deploy` reads those and computes nothing.
 */
export function crossHostDependencies(env: EnvironmentModel): HostDependency[] {
  const componentHost = new Map<string, string>();
  for (const host of env.hosts) for (const c of host.components) componentHost.set(c.id, host.name);
  const found = new Map<string, HostDependency>();
  for (const w of env.wiring) {
    const to = componentHost.get(w.requirer);
    for (const provider of w.providers) {
      const from = componentHost.get(provider);
      if (from === undefined || to === undefined || from === to || found.has(`${from}\0${to}`)) continue;
      found.set(`${from}\0${to}`, { from, to, reason: `${w.requirer} requires ${JSON.stringify(w.key)} from ${provider}`, site: w.site });
    }
  }
  return [...found.values()];
}

function hostGraph(
  host: HostModel,
  resources: readonly CheckedResource[],
  env: EnvironmentModel,
  owed: Map<CheckedResource, string[]>,
  diagnostics: Diagnostic[],
): GraphNode[] {
  const nodes: GraphNode[] = [];
  // Written out, not spread: V8's first runs of an object spread take its slow path (102,000 resources in a large build).
  const add = (label: string, rank: number, resource?: CheckedResource) => nodes.push({ label, rank, resource, edges: [] }) - 1;
  const edge = (from: number, to: number, reason: string, site: Location | undefined, componentStart?: true) =>
    nodes[from]!.edges.push(componentStart ? { to, reason, site, componentStart } : { to, reason, site });

  const resourceNode = new Map<object, number>();
  const byPath = new Map<string, number>();
  // Resource k is node k: they are added first, in order.
  for (const r of resources) {
    const i = add(`${r.kind} ${r.key}`, r.model.declarationIndex * 2 + 1, r);
    resourceNode.set(r.model.origin, i);
    if (r.definition.claims === "path") byPath.set(r.key, i);
  }
  const start = new Map<string, number>();
  const end = new Map<string, number>();
  for (const c of host.components) {
    start.set(c.id, add(c.name, c.declarationIndex * 2));
    end.set(c.id, add(c.name, c.declarationIndex * 2));
  }

  // A component's content lies between its start and end.
  for (const c of host.components) {
    const [s, e] = [start.get(c.id)!, end.get(c.id)!];
    if (c.parent !== undefined) {
      edge(start.get(c.parent)!, s, `${c.name} is part of ${c.parent}`, c.site);
      edge(e, end.get(c.parent)!, `${c.name} is part of ${c.parent}`, c.site);
    } else edge(s, e, "", c.site);
  }
  resources.forEach((r, i) => {
    const owner = r.model.owner;
    if (owner === undefined) return;
    edge(start.get(owner)!, i, `part of ${owner}`, r.model.site, r.definition.collect !== undefined ? true : undefined);
    edge(i, end.get(owner)!, `part of ${owner}`, r.model.site);
  });

  // A resource follows the directories declared above it.
  resources.forEach((r, i) => {
    if (r.definition.claims !== "path") return;
    for (const parent of ancestors(r.key)) {
      const p = byPath.get(parent);
      if (p !== undefined && nodes[p]!.resource!.container) edge(p, i, `${parent} contains it`, r.model.site);
    }
  });

  // Implicit references: an option naming a path, user or group that another
  // resource of the host makes (its definition's `references` / `provides`).
  // What is made, by namespace ("path", or what a definition `provides`), then key.
  const makers = new Map<string, Map<string, number>>();
  const makersOf = (what: string) => {
    let m = makers.get(what);
    if (m === undefined) makers.set(what, (m = new Map()));
    return m;
  };
  resources.forEach((r, i) => {
    if (r.definition.claims === "path") makersOf("path").set(r.key, i);
    const provides = r.definition.provides;
    if (provides !== undefined && !makersOf(provides).has(r.key)) makersOf(provides).set(r.key, i);
  });
  resources.forEach((r, i) => {
    for (const [option, what] of referencesOf(r.definition)) {
      const value = r.model.props[option];
      for (const name of Array.isArray(value) ? value : [value]) {
        if (typeof name !== "string") continue;
        const m = makers.get(what)?.get(what === "path" ? normalPath(name) : name);
        if (m !== undefined && m !== i) edge(m, i, `${r.kind} ${r.key}: its ${option} ${name} is made by ${nodes[m]!.label}`, r.model.site);
      }
    }
  });

  // References by object identity: a resource, or a component's instances on this host.
  const resolve = (target: unknown): { first: number; last: number; label: string }[] | undefined => {
    if (isResource(target)) {
      const i = resourceNode.get(target);
      return i === undefined ? undefined : [{ first: i, last: i, label: nodes[i]!.label }];
    }
    const matches = host.components.filter((c) => (isComponentUse(target) ? c.use === target : isComponent(target) && c.definition === target));
    return matches.length === 0 ? undefined : matches.map((c) => ({ first: start.get(c.id)!, last: end.get(c.id)!, label: c.name }));
  };
  const describe = (target: unknown) =>
    isResource(target) ? `${target.kind} ${JSON.stringify(identity(target.props as Record<string, unknown>))}` : isComponentUse(target) ? `component ${JSON.stringify(target.instanceName)}` : isComponent(target) ? `component ${JSON.stringify(target.name)}` : String(target);

  resources.forEach((r, i) => {
    const { after, before } = r.model.props;
    if (after === undefined && before === undefined) return;
    for (const [field, list] of [["after", after], ["before", before]] as const) {
      for (const target of (list as readonly unknown[] | undefined) ?? []) {
        const found = resolve(target);
        if (found === undefined) {
          diagnostics.push(diagnostic("invalidReference", { what: `${r.kind} ${JSON.stringify(r.key)} (${field})`, target: describe(target), host: JSON.stringify(host.name) }, r.model.site));
          continue;
        }
        for (const t of found) {
          if (field === "after") edge(t.last, i, `${r.kind} ${r.key} is declared after ${t.label}`, r.model.site);
          else edge(i, t.first, `${r.kind} ${r.key} is declared before ${t.label}`, r.model.site);
        }
      }
    }
  });
  // Notifications: a reaction runs after everything that can trigger it.
  const membersOf = (ids: readonly string[]) =>
    resources.filter((r) => r.model.owner !== undefined && ids.some((id) => r.model.owner === id || r.model.owner!.startsWith(`${id}/`)));
  for (const reaction of resources) {
    const reactionNode = resourceNode.get(reaction.model.origin)!;
    for (const target of reaction.definition.reacts ? (reaction.notifiedBy ?? []) : []) {
      const found = resolve(target);
      if (found === undefined) {
        diagnostics.push(diagnostic("invalidReference", { what: `${reaction.kind} ${JSON.stringify(reaction.key)} (whenChanged)`, target: describe(target), host: JSON.stringify(host.name) }, reaction.model.site));
        continue;
      }
      const triggers = isResource(target)
        ? [nodes[found[0]!.first]!.resource!]
        : membersOf(host.components.filter((c) => found.some((f) => f.first === start.get(c.id))).map((c) => c.id));
      for (const trigger of triggers) {
        if (trigger === reaction) continue;
        edge(resourceNode.get(trigger.model.origin)!, reactionNode, `${reaction.kind} ${reaction.key} reacts to ${trigger.kind} ${trigger.key}`, reaction.model.site);
        const list = owed.get(trigger) ?? [];
        const name = `${reaction.kind}:${reaction.key}`;
        if (!list.includes(name)) list.push(name);
        owed.set(trigger, list);
      }
    }
  }

  for (const c of host.components) {
    for (const target of c.after) {
      for (const t of resolve(target) ?? []) edge(t.last, start.get(c.id)!, `${c.name} is declared after ${t.label}`, c.definitionSite);
    }
  }

  // Providers before requirers on the same host.
  for (const w of env.wiring) {
    if (!start.has(w.requirer)) continue;
    for (const provider of w.providers) {
      if (!end.has(provider) || provider === w.requirer) continue;
      edge(end.get(provider)!, start.get(w.requirer)!, `${w.requirer} requires ${JSON.stringify(w.key)}`, w.site);
    }
  }
  return nodes;
}

/** A definition's `references` as entries, once per definition. */
function referencesOf(definition: KindDefinition): readonly (readonly [string, Reference])[] {
  let entries = referenceEntries.get(definition);
  if (entries === undefined) referenceEntries.set(definition, (entries = Object.entries(definition.references ?? {})));
  return entries;
}

const referenceEntries = new WeakMap<KindDefinition, readonly (readonly [string, Reference])[]>();

/** A path as checkPath normalizes keys: no `//`, `.` segments or trailing `/`. */
const normalPath = (path: string) => `/${path.split("/").filter((s) => s !== "" && s !== ".").join("/")}`;

/**
 * Collected kinds (KindDefinition.collect): each group of a host becomes one
 * node, its first declared member's, which takes over every edge of the
 * others; the group runs where all of its members may, its members next to
 * each other in declaration order. An edge between two members of a group
 * is kept by the one call and dropped. The group runs within its first
 * member's component: another member's component does not hold it back by
 * starting later (its start edge to the member is dropped; the component still
 * ends after the group, and the member's own `after` still holds). Otherwise
 * one host with `postgres` and a `django` that requires it (django after
 * postgres) and Packages in both would be a cycle: postgres's files after the
 * group, the group after django's start. Returns the groups by their node.
 */
function contractGroups(nodes: GraphNode[]): Map<number, number[]> {
  const groups = new Map<string, number[]>();
  nodes.forEach((node, i) => {
    const collect = node.resource?.definition.collect;
    if (collect === undefined) return;
    const key = `${node.resource!.kind}\0${collect.by(node.resource!)}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const byNode = new Map<number, number[]>();
  const head = new Map<number, number>();
  for (const members of groups.values()) {
    members.sort((a, b) => nodes[a]!.rank - nodes[b]!.rank || a - b);
    for (const m of members) head.set(m, members[0]!);
    byNode.set(members[0]!, members);
  }
  if (head.size === 0) return byNode;
  for (const [first, members] of byNode) {
    if (members.length > 1) nodes[first]!.label = members.map((m) => nodes[m]!.label).join(" + ");
  }
  for (let i = 0; i < nodes.length; i++) {
    const from = head.get(i) ?? i;
    const edges = nodes[i]!.edges
      .filter((e) => !(e.componentStart && head.has(e.to) && head.get(e.to) !== e.to))
      .map((e) => ({ ...e, to: head.get(e.to) ?? e.to }))
      .filter((e) => e.to !== from);
    if (from === i) nodes[i]!.edges = edges;
    else {
      nodes[from]!.edges.push(...edges);
      nodes[i]!.edges = [];
      nodes[i]!.absorbed = true;
    }
  }
  return byNode;
}

/** What names a resource that is not on the host (so it has no checked key): its path, name or base. */
function identity(props: Record<string, unknown>): string {
  for (const field of ["path", "name", "base", "confDir", "directory", "to"]) if (typeof props[field] === "string") return props[field] as string;
  return "";
}

/** Kahn's algorithm, picking the lowest rank among ready nodes; or a cycle. */
function topologicalOrder(nodes: readonly { readonly rank: number; readonly edges: readonly Edge[] }[]): { order: number[]; cycle?: number[] } {
  const pending = nodes.map(() => 0);
  for (const node of nodes) for (const e of node.edges) pending[e.to]!++;
  const ready = new MinHeap((a, b) => nodes[a]!.rank - nodes[b]!.rank || a - b);
  pending.forEach((count, i) => count === 0 && ready.push(i));
  const order: number[] = [];
  for (let i = ready.pop(); i !== undefined; i = ready.pop()) {
    order.push(i);
    for (const e of nodes[i]!.edges) if (--pending[e.to]! === 0) ready.push(e.to);
  }
  if (order.length === nodes.length) return { order };
  return { order, cycle: findCycle(nodes, new Set(pending.flatMap((c, i) => (c > 0 ? [i] : [])))) };
}

/** A cycle among the nodes Kahn's algorithm could not place, as node indices (first = last). */
function findCycle(nodes: readonly { readonly edges: readonly Edge[] }[], stuck: ReadonlySet<number>): number[] {
  // Every stuck node has a stuck predecessor; walking predecessors must revisit a node.
  const predecessor = new Map<number, number>();
  for (let from = 0; from < nodes.length; from++) {
    if (!stuck.has(from)) continue;
    for (const e of nodes[from]!.edges) if (stuck.has(e.to) && !predecessor.has(e.to)) predecessor.set(e.to, from);
  }
  const seen = new Map<number, number>();
  const path: number[] = [];
  let node = [...stuck].sort((a, b) => a - b)[0]!;
  while (!seen.has(node)) {
    seen.set(node, path.length);
    path.push(node);
    node = predecessor.get(node)!;
  }
  return [...path.slice(seen.get(node)!), node].reverse();
}

function cycleDiagnostic(
  id: "cycleInHost" | "cycleAcrossHosts",
  args: Record<string, string>,
  nodes: readonly GraphNode[] | readonly { label: string; edges: readonly Edge[] }[],
  cycle: readonly number[],
): Diagnostic {
  const labels: string[] = [];
  const notes: Note[] = [];
  for (let k = 0; k < cycle.length; k++) {
    const label = nodes[cycle[k]!]!.label;
    if (labels[labels.length - 1] !== label) labels.push(label);
    if (k + 1 < cycle.length) {
      const e = nodes[cycle[k]!]!.edges.find((x) => x.to === cycle[k + 1]);
      if (e && e.reason !== "") notes.push({ message: e.reason, location: e.site });
    }
  }
  const site = notes.find((n) => n.location)?.location;
  return diagnostic(id, { ...args, cycle: labels.join(" => ") }, site, notes);
}

/** Host waves from the host dependencies: wave k waits only for waves < k. */
function hostWaves(env: EnvironmentModel, dependencies: readonly HostDependency[], diagnostics: Diagnostic[]): string[][] {
  const index = new Map(env.hosts.map((h, i) => [h.name, i] as const));
  const nodes = env.hosts.map((h, i) => ({ label: h.name, rank: i, edges: [] as Edge[] }));
  for (const d of dependencies) nodes[index.get(d.from)!]!.edges.push({ to: index.get(d.to)!, reason: d.reason, site: d.site });
  const sorted = topologicalOrder(nodes);
  if (sorted.cycle) {
    diagnostics.push(cycleDiagnostic("cycleAcrossHosts", {}, nodes, sorted.cycle));
    return [];
  }
  const wave = nodes.map(() => 0);
  for (const i of sorted.order) for (const e of nodes[i]!.edges) wave[e.to] = Math.max(wave[e.to]!, wave[i]! + 1);
  const waves: string[][] = [];
  env.hosts.forEach((h, i) => (waves[wave[i]!] ??= []).push(h.name));
  return waves;
}

/** A binary min-heap under a comparison. */
class MinHeap {
  private readonly items: number[] = [];
  constructor(private readonly less: (a: number, b: number) => number) {}
  push(value: number): void {
    const items = this.items;
    items.push(value);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (this.less(items[parent]!, items[i]!) <= 0) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }
  pop(): number | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.less(items[l]!, items[m]!) < 0) m = l;
        if (r < items.length && this.less(items[r]!, items[m]!) < 0) m = r;
        if (m === i) break;
        [items[m], items[i]] = [items[i]!, items[m]!];
        i = m;
      }
    }
    return top;
  }
}

