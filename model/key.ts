import { KEY } from "./private/brand.js";
import { declarationSites, type RawSite } from "./private/site.js";
import { SITES } from "./resource.js";

/**
 * A typed name for values that components provide and others require,
 * across hosts: `const database = key<{ url: string }>("database")`.
 */
export interface Key<T> {
  readonly [KEY]: true;
  readonly [SITES]: readonly RawSite[];
  readonly name: string;
  /** Carries the value type; never set. */
  readonly __type?: (value: T) => T;
}

export function key<T>(name: string): Key<T> {
  return Object.freeze({ [KEY]: true as const, [SITES]: declarationSites(arguments[1]), name });
}
