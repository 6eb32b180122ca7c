import type { Location } from "../../compiler/diagnostics/diagnostic.js";
import { shownPath } from "../../compiler/diagnostics/format.js";
import type { ComponentModel, EnvironmentModel, HostModel, ResourceModel } from "../../compiler/model.js";
import { orderEnvironment } from "../../compiler/order.js";
import type { CheckedResource } from "../../kinds/kind.js";
import { validate } from "../../compiler/validate.js";
import { isComponent, isComponentUse } from "../../model/component.js";
import { isResource } from "../../model/resource.js";

/**
 * What `depc inspect` and `depc graph` need beyond the evaluated model:
 * each resource's checked key and the hosts' run order and waves. Best
 * effort: a model with validation or ordering errors is still described
 * (the compiler has reported those errors already); a resource that did not
 * validate has no key of its own, a host with a cycle has no run order.
 */
export interface Analysis {
  readonly environment: EnvironmentModel;
  /** Checked resource by the stdlib object it came from. */
  readonly checked: ReadonlyMap<object, CheckedResource>;
  /** 1-based position in its host's run order (the bundle's step index). */
  readonly runIndex: ReadonlyMap<object, number>;
  /** Deploy waves of host names; empty when the hosts' order has a cycle. */
  readonly waves: readonly (readonly string[])[];
}

export function analyze(environment: EnvironmentModel): Analysis {
  const validated = validate(environment);
  const checked = new Map<object, CheckedResource>();
  for (const host of validated.hosts) for (const r of host.resources) checked.set(r.model.origin, r);
  const ordered = orderEnvironment(environment, validated.hosts);
  const runIndex = new Map<object, number>();
  for (const list of ordered.hosts.values()) list.forEach((r, i) => runIndex.set(r.model.origin, i + 1));
  return { environment, checked, runIndex, waves: ordered.waves };
}

/** `file:line:col`, as diagnostics print it (see shownPath). */
export function place(site: Location | undefined, cwd: string): string | null {
  if (site === undefined) return null;
  const shown = shownPath(cwd, site.file).split("\\").join("/");
  return `${shown}:${site.line}:${site.column}`;
}

/** A resource's identity on its host: the checked key, else its `path` or `name` as declared. */
export function resourceKey(analysis: Analysis, r: ResourceModel): string {
  const checked = analysis.checked.get(r.origin);
  if (checked) return checked.key;
  const { path, name } = r.props as { path?: unknown; name?: unknown };
  return typeof path === "string" ? path : typeof name === "string" ? name : "";
}

/** `file /srv/app/app.ini` */
export function resourceLabel(analysis: Analysis, r: ResourceModel): string {
  return `${r.kind} ${resourceKey(analysis, r)}`;
}

/**
 * What an `after`/`before` entry or a component's `after` refers to on one
 * host: a resource of the host, or the host's instances of a component
 * (definition or `.with()`/`.named()` use). Empty when it refers to nothing
 * there (the compiler reports that as DEPC's invalid reference).
 */
export function resolveReference(
  host: HostModel,
  target: unknown,
): { readonly resources: readonly ResourceModel[]; readonly components: readonly ComponentModel[] } {
  if (isResource(target)) return { resources: host.resources.filter((r) => r.origin === target), components: [] };
  const components = host.components.filter((c) =>
    isComponentUse(target) ? c.use === target : isComponent(target) && c.definition === target,
  );
  return { resources: [], components };
}

/** The `after` and `before` lists of a resource's props (user data: anything may be there). */
export function relations(r: ResourceModel): { readonly after: readonly unknown[]; readonly before: readonly unknown[] } {
  const list = (value: unknown) => (Array.isArray(value) ? (value as unknown[]) : []);
  return { after: list(r.props.after), before: list(r.props.before) };
}
