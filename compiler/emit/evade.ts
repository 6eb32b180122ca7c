import type { HostModel } from "../model.js";
import { positionalArguments, type CheckedResource } from "../../kinds/kind.js";
import { shellQuote } from "./quote.js";

/**
 * Cold deployment, batou's `deployment = "cold"` for supervisor programs
 * (batou/lib/supervisor.py, `Program.evade`, and the "precursor" event
 * scope of batou/component.py): a resource with an `evasion` is stopped
 * right before the first of its *precursors* changes in a run, and started
 * again by its own step. Its precursors are
 *
 * - the resources of its root component instance (the top-level component
 *   on the host that holds it, with all its sub-components) that run before
 *   it: batou stops a cold program before any component ordered before it
 *   in the same root component updates;
 * - the resources whose change it reacts to (`whenChanged`), wherever they
 *   are on the host (they always run before it).
 *
 * A resource placed on the host outside any component has only the second.
 * Members of collected kinds (KindDefinition.collect: Packages, cron lines)
 * are never precursors: their group's call runs before their own steps.
 * Whether a precursor will change is found out on the host, right before it
 * runs (runtime/evade.sh: its function in check mode first), so a run in
 * which nothing changes stops nothing.
 */
export interface Evasions {
  /**
   * `depc_evasions`: for each precursor's index, the indices of the
   * resources to stop first; and, when there are any, `depc_evade N`: the
   * evade call of resource N.
   */
  readonly table: string;
  /** Runtime functions the bundle needs for them. */
  readonly roots: readonly string[];
}

export function evasions(host: HostModel, resources: readonly CheckedResource[], notifications: ReadonlyMap<CheckedResource, readonly string[]>): Evasions {
  const parent = new Map(host.components.map((c) => [c.id, c.parent]));
  const rootOf = (owner: string | undefined): string | undefined => {
    let id = owner;
    while (id !== undefined && parent.get(id) !== undefined) id = parent.get(id);
    return id;
  };
  const evaders = new Map<number, number[]>();
  const calls: string[] = [];
  const roots = new Set<string>();
  resources.forEach((resource, j) => {
    const evasion = resource.evasion;
    if (evasion === undefined) return;
    const evade = resource.definition.evade;
    if (evade === undefined) throw new Error(`kind ${JSON.stringify(resource.kind)} has an evasion but no evade call`);
    const args = positionalArguments({ ...resource.definition, runtime: { ...resource.definition.runtime, calls: [evade] } }, { call: evade.fn, args: { ...evasion.args, owe: evasion.owe } });
    calls.push(`    ${j + 1}) ${evade.fn} ${args.map((a) => shellQuote(a as string)).join(" ")} ;;`);
    roots.add(evade.fn);
    const reaction = `${resource.kind}:${resource.key}`;
    const root = rootOf(resource.model.owner);
    for (let i = 0; i < j; i++) {
      const other = resources[i]!;
      // A collected kind's members replay a call that already ran (runtime/collect.sh): too late to stop anything first.
      if (other.definition.collect !== undefined) continue;
      const sameRoot = root !== undefined && rootOf(other.model.owner) === root;
      if (sameRoot || (notifications.get(other) ?? []).includes(reaction)) evaders.set(i + 1, [...(evaders.get(i + 1) ?? []), j + 1]);
    }
  });
  if (evaders.size === 0) return { table: "depc_evasions() {\n  :\n}", roots: [] };
  roots.add("depc_evade_before");
  // Precursors with the same evaders share one case.
  const grouped = new Map<string, number[]>();
  for (const [index, list] of [...evaders].sort((a, b) => a[0] - b[0])) grouped.set(list.join(" "), [...(grouped.get(list.join(" ")) ?? []), index]);
  const cases = [...grouped].map(([list, indices]) => `    ${indices.join(" | ")}) shift && depc_evade_before '${list}' "$@" ;;`);
  const table = `depc_evasions() {\n  case $1 in\n${cases.join("\n")}\n  esac\n}\ndepc_evade() {\n  case $1 in\n${calls.join("\n")}\n  esac\n}`;
  return { table, roots: [...roots] };
}
