import type { ComponentModel, HostModel, ResourceModel } from "../../compiler/model.js";
import { ancestors } from "../../compiler/validate.js";
import { relations, resolveReference, resourceKey, resourceLabel, type Analysis } from "./analyze.js";

/**
 * `depc graph`: the model's dependency graph, computed from the model itself
 * (membership, wiring, parent directories, `after`/`before`), then written
 * as Graphviz DOT or Mermaid. Node ids are generated (`h1`, `c1`, `r1`, in
 * model order), so no user text is ever an identifier; user text appears
 * only in labels, escaped for each format.
 *
 * Every ordering edge points from what converges first to what converges
 * later. Membership edges (a component's resources and sub-components)
 * carry no order of their own and are drawn without an arrowhead. Two
 * nodes are joined by at most one ordering edge: when several reasons put
 * one before the other (a file inside a directory and `after` it), the edge
 * is labelled with all of them and drawn in the style of the first.
 */
export interface Graph {
  readonly environment: string;
  readonly clusters: readonly Cluster[];
  readonly edges: readonly GraphEdge[];
}

/** One host. */
export interface Cluster {
  readonly id: string;
  readonly host: string;
  readonly nodes: readonly GraphNode[];
}

export interface GraphNode {
  readonly id: string;
  readonly kind: "component" | "resource";
  readonly label: string;
}

export type EdgeKind = "member" | "provides" | "directory" | "after" | "before" | "notifies";

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** The first reason found; it decides the style. */
  readonly kind: EdgeKind;
  /** Every reason, `, `-separated: the key for `provides`, {@link EDGE_TEXT} for the others; none for `member`. */
  readonly label?: string;
}

/** How an edge without a key is labelled: a directory "contains" what is below it, a change "notifies" its reaction. */
export const EDGE_TEXT: Record<Exclude<EdgeKind, "member" | "provides">, string> = {
  directory: "contains",
  after: "after",
  before: "before",
  notifies: "notifies",
};


export function buildGraph(analysis: Analysis): Graph {
  const env = analysis.environment;
  const componentId = new Map<string, string>();
  const resourceId = new Map<object, string>();
  let components = 0;
  let resources = 0;
  const clusters: Cluster[] = env.hosts.map((host, h) => {
    const nodes: GraphNode[] = [];
    for (const c of host.components) {
      const id = `c${++components}`;
      componentId.set(c.id, id);
      nodes.push({ id, kind: "component", label: componentLabel(c) });
    }
    for (const r of host.resources) {
      const id = `r${++resources}`;
      resourceId.set(r.origin, id);
      nodes.push({ id, kind: "resource", label: resourceLabel(analysis, r) });
    }
    return { id: `h${h + 1}`, host: host.name, nodes };
  });

  // One membership edge and one ordering edge at most per pair of nodes; an ordering edge collects its reasons.
  const edges: { from: string; to: string; kind: EdgeKind; reasons: string[] }[] = [];
  const byPair = new Map<string, (typeof edges)[number]>();
  const add = (from: string | undefined, to: string | undefined, kind: EdgeKind, key?: string) => {
    if (from === undefined || to === undefined || from === to) return;
    const pair = `${from} ${to} ${kind === "member" ? "member" : "order"}`;
    const reason = kind === "member" ? undefined : (key ?? EDGE_TEXT[kind as Exclude<EdgeKind, "member" | "provides">]);
    const edge = byPair.get(pair);
    if (edge === undefined) {
      const made = { from, to, kind, reasons: reason === undefined ? [] : [reason] };
      byPair.set(pair, made);
      edges.push(made);
    } else if (reason !== undefined && !edge.reasons.includes(reason)) edge.reasons.push(reason);
  };

  for (const host of env.hosts) {
    // Membership.
    for (const c of host.components) if (c.parent !== undefined) add(componentId.get(c.parent), componentId.get(c.id), "member");
    for (const r of host.resources) if (r.owner !== undefined) add(componentId.get(r.owner), resourceId.get(r.origin), "member");

    // The nearest declared directory above a resource (the farther ones follow through it).
    const containers = new Map<string, ResourceModel>();
    for (const r of host.resources) if (analysis.checked.get(r.origin)?.container) containers.set(resourceKey(analysis, r), r);
    for (const r of host.resources) {
      const checked = analysis.checked.get(r.origin);
      if (checked === undefined || checked.definition.claims !== "path") continue;
      const key = checked.key;
      const parent = ancestors(key).find((a) => containers.has(a));
      if (parent !== undefined) add(resourceId.get(containers.get(parent)!.origin), resourceId.get(r.origin), "directory");
    }

    // Explicit `after`/`before` of resources, and components' `after`.
    const ends = (target: unknown) => targets(host, target, componentId, resourceId);
    for (const r of host.resources) {
      const self = resourceId.get(r.origin);
      const { after, before } = relations(r);
      for (const t of after) for (const id of ends(t)) add(id, self, "after");
      for (const t of before) for (const id of ends(t)) add(self, id, "before");
    }
    for (const c of host.components) for (const t of c.after) for (const id of ends(t)) add(id, componentId.get(c.id), "after");

    // Notifications: what a reaction watches (a resource, or a component: any of its resources) → the reaction.
    for (const r of host.resources) {
      const watched = analysis.checked.get(r.origin)?.notifiedBy ?? (Array.isArray(r.props.whenChanged) ? (r.props.whenChanged as unknown[]) : []);
      for (const t of watched) for (const id of ends(t)) add(id, resourceId.get(r.origin), "notifies");
    }
  }

  // Provide/require, across hosts: provider → requirer, labelled with the key.
  for (const w of env.wiring) for (const p of w.providers) add(componentId.get(p), componentId.get(w.requirer), "provides", w.key);

  return {
    environment: env.name,
    clusters,
    edges: edges.map(({ from, to, kind, reasons }) => (reasons.length === 0 ? { from, to, kind } : { from, to, kind, label: reasons.join(", ") })),
  };
}

function targets(host: HostModel, target: unknown, componentId: ReadonlyMap<string, string>, resourceId: ReadonlyMap<object, string>): string[] {
  const found = resolveReference(host, target);
  return [
    ...found.resources.flatMap((r) => resourceId.get(r.origin) ?? []),
    ...found.components.flatMap((c) => componentId.get(c.id) ?? []),
  ];
}

/** `app` or `api (app)` for a renamed instance; sub-components show their path below the host. */
function componentLabel(c: ComponentModel): string {
  const path = c.id.slice(c.host.length + 1);
  return c.name === c.component ? path : `${path} (${c.component})`;
}

const edgeText = (e: GraphEdge): string | undefined => e.label;

// ---- Graphviz DOT ----

/** A DOT double-quoted string: `"` and `\` escaped (so `\N`, `\l` in user text stay literal), line breaks as `\n`. */
export function dotString(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\r\n|\r|\n/g, "\\n").replace(/[\u0000-\u001f\u007f]/g, " ")}"`;
}

const DOT_EDGE: Record<EdgeKind, string> = {
  member: "style=dashed, arrowhead=none, color=gray50",
  provides: "color=blue, fontcolor=blue, penwidth=1.5",
  directory: "color=gray30",
  after: "style=bold",
  before: "style=bold",
  notifies: "color=darkorange, fontcolor=darkorange",
};

export function renderDot(graph: Graph): string {
  const out: string[] = [];
  out.push(`// depc graph of environment ${graph.environment.replace(/[\u0000-\u001f\u007f]/g, " ")}`);
  out.push("// Arrows point from what converges first to what converges later; dashed lines join a component to its parts.");
  out.push(`digraph ${dotString(graph.environment)} {`);
  out.push('  graph [rankdir=LR, fontname="Helvetica", fontsize=11];');
  out.push('  node [fontname="Helvetica", fontsize=10];');
  out.push('  edge [fontname="Helvetica", fontsize=9];');
  for (const cluster of graph.clusters) {
    out.push(`  subgraph ${dotString(`cluster_${cluster.host}`)} {`);
    out.push(`    label=${dotString(`host ${cluster.host}`)};`);
    out.push("    style=rounded;");
    for (const node of cluster.nodes) {
      const shape = node.kind === "component" ? "shape=box, style=\"rounded,filled\", fillcolor=lightyellow" : "shape=note";
      out.push(`    ${node.id} [label=${dotString(node.label)}, ${shape}];`);
    }
    out.push("  }");
  }
  for (const e of graph.edges) {
    const text = edgeText(e);
    const label = text === undefined ? "" : `label=${dotString(text)}, `;
    out.push(`  ${e.from} -> ${e.to} [${label}${DOT_EDGE[e.kind]}];`);
  }
  out.push("}");
  return `${out.join("\n")}\n`;
}

// ---- Mermaid ----

/**
 * Mermaid label text, for inside `"..."`: characters with a meaning to
 * Mermaid or to its HTML labels become entity codes (`#quot;`), line breaks
 * become blanks.
 */
export function mermaidText(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, " ")
    .replace(/[\u0000-\u001f\u007f]/g, " ")
    .replace(/[#"<>&`|]/g, (c) => (c === '"' ? "#quot;" : `#${c.codePointAt(0)};`));
}

const MERMAID_ARROW: Record<EdgeKind, string> = {
  member: "-.-",
  provides: "==>",
  directory: "-->",
  after: "-->",
  before: "-->",
  notifies: "-.->",
};

export function renderMermaid(graph: Graph): string {
  const out: string[] = [];
  out.push(`%% depc graph of environment ${mermaidText(graph.environment)}`);
  out.push("%% Arrows point from what converges first to what converges later; dotted lines join a component to its parts.");
  out.push("flowchart LR");
  for (const cluster of graph.clusters) {
    out.push(`  subgraph ${cluster.id}["${mermaidText(`host ${cluster.host}`)}"]`);
    for (const node of cluster.nodes) {
      const text = `"${mermaidText(node.label)}"`;
      out.push(`    ${node.id}${node.kind === "component" ? `(${text})` : `[${text}]`}`);
    }
    out.push("  end");
  }
  for (const e of graph.edges) {
    const label = edgeText(e);
    out.push(`  ${e.from} ${MERMAID_ARROW[e.kind]}${label === undefined ? "" : `|"${mermaidText(label)}"|`} ${e.to}`);
  }
  return `${out.join("\n")}\n`;
}
