import type { AnyComponent, AnyComponentUse } from "./component.js";
import { RESOURCE, hasBrand } from "./private/brand.js";
import { currentScope } from "./private/scope.js";
import { declarationSites, type RawSite } from "./private/site.js";

/** Where a model object was declared (filled in by depc; not for users). */
export const SITES = Symbol.for("depc.sites");

/**
 * A file mode: a number (`0o644`) or a string of octal digits (`"0644"`, `"755"`).
 * Symbolic modes (`u=rw`) are not accepted: a bundle states the exact mode.
 */
export type Mode = number | string;

/** A user or group on the host: a name (`"www-data"`) or a numeric id. */
export type Principal = string | number;

/** Something a host converges to: a file, a directory, a link, … */
export interface Resource<Kind extends string = string, Props = unknown> {
  readonly [RESOURCE]: true;
  readonly [SITES]: readonly RawSite[];
  /** The resource's kind, e.g. `"file"`. */
  readonly kind: Kind;
  /** The options it was declared with. */
  readonly props: Props;
}

/**
 * Makes a branded, frozen resource and records where it was declared.
 * `site` is the compiler's position marker that a factory received as its
 * hidden last argument (see compiler/load/site-transformer.ts).
 */
export function defineResource<Kind extends string, Props>(kind: Kind, props: Props, site?: unknown): Resource<Kind, Props> {
  const resource = Object.freeze({
    [RESOURCE]: true as const,
    [SITES]: declarationSites(site),
    kind,
    props: Object.freeze({ ...props }),
  });
  // Made inside a component's build: it belongs to that component.
  currentScope()?.add(resource);
  return resource;
}

/** What a resource can be ordered against: another resource, or a component's instances on the same host. */
export type Dependency = Resource | AnyComponent | AnyComponentUse;

/** Options every resource accepts: ordering, and what happens when it leaves the model. */
export interface Relations {
  /**
   * Leave it on the host when it is deleted from the model. By default depc
   * removes what left the model (a file is deleted, a program stopped, …);
   * with `keep: true` the next deploy forgets it and leaves it in place.
   * @default false
   */
  readonly keep?: boolean;
  /**
   * Resources or components (their instances on the same host) to converge before this one.
   * @default []
   */
  readonly after?: readonly Dependency[];
  /**
   * Resources or components (their instances on the same host) to converge after this one.
   * @default []
   */
  readonly before?: readonly Dependency[];
}

export function isResource(value: unknown): value is Resource {
  return hasBrand(value, RESOURCE);
}
