import { ENVIRONMENT, hasBrand } from "./private/brand.js";
import { captureSites, type RawSite } from "./private/site.js";
import { SITES, type Resource } from "./resource.js";

/** What can be placed on a host: resources, or lists of them (flattened in order). */
export type Placeable = Resource | readonly Placeable[];

/** A host with its connection details and what it runs. */
export interface HostOptions {
  /**
   * Address or ssh alias used to reach the host (`~/.ssh/config` applies).
   * @default the host's name
   */
  readonly address?: string;
  /**
   * ssh user.
   * @default the ssh client's default (your `~/.ssh/config`, else your login name)
   */
  readonly user?: string;
  /**
   * ssh port.
   * @default the ssh client's default (22 unless `~/.ssh/config` says otherwise)
   */
  readonly port?: number;
  /**
   * Free data about the host (batou's `data-*`), available to components.
   * @default {}
   */
  readonly data?: Readonly<Record<string, unknown>>;
  /** What the host converges to, in declaration order. */
  readonly components: readonly Placeable[];
  /**
   * Leave the host out of builds and deploys without deleting it from the model.
   * @default false
   */
  readonly ignore?: boolean;
}

/** A host: its list of resources, or {@link HostOptions}. */
export type HostSpec = readonly Placeable[] | HostOptions;

/** Options of {@link environment}. */
export interface EnvironmentOptions {
  /**
   * The environment's name, used for `build/<name>/` and in every bundle.
   * @default the module's file name without `.ts` (`env/prod.ts` → `"prod"`;
   *          `env/prod/index.ts` → `"prod"`)
   */
  readonly name?: string;
  /** The hosts by name. The name is also the bundle's file name: `<name>.sh`. */
  readonly hosts: Readonly<Record<string, HostSpec>>;
}

export interface Environment {
  readonly [SITES]: readonly RawSite[];
  readonly options: EnvironmentOptions;
}

/**
 * Declares an environment: the hosts of one deployment and what each runs.
 * An environment module default-exports it:
 *
 * ```ts
 * export default environment({
 *   hosts: { web1: [File({ path: "/etc/motd", content: "hello\n" })] },
 * });
 * ```
 */
export function environment(options: EnvironmentOptions): Environment {
  return Object.freeze({ [ENVIRONMENT]: true, [SITES]: captureSites(), options });
}

export function isEnvironment(value: unknown): value is Environment {
  return hasBrand(value, ENVIRONMENT);
}
