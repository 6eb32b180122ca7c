import { ENVIRONMENT, hasBrand } from "./private/brand.js";
import { declarationSites, type RawSite } from "./private/site.js";
import type { Component, ComponentUse, HostData, Placeable } from "./component.js";
import { SITES } from "./resource.js";
import type { RolloutPolicy } from "./rollout.js";

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
   * Data about the host for components to read (batou's `data-*`); its type is
   * {@link HostData}, which your project declares.
   * @default {}
   */
  readonly data?: Readonly<HostData>;
  /** What the host converges to: components and resources, in order. */
  readonly components: readonly Placeable[];
  /**
   * Leave the host out of builds and deploys without deleting it from the model.
   * @default false
   */
  readonly ignore?: boolean;
}

/** A host: its list of components and resources, or {@link HostOptions}. */
export type HostSpec = readonly Placeable[] | HostOptions;

// Type-level: the components placed in an environment, as [name, settings] pairs.
type ItemsOf<H> = H extends { readonly components: readonly (infer I)[] } ? I : H extends readonly (infer I)[] ? I : never;
// Host lists may nest a few levels (helpers returning lists); a fixed depth keeps the checker fast.
type Flat<I> = I extends readonly (infer J)[] ? (J extends readonly (infer K)[] ? (K extends readonly (infer L)[] ? L : K) : J) : I;
type NameAndSettings<I> =
  I extends Component<infer N, infer S> ? [N, S] : I extends ComponentUse<infer N, infer S> ? [N, S] : never;
type Placed<Hosts> = NameAndSettings<Flat<ItemsOf<Hosts[keyof Hosts]>>>;

/** Environment-wide overrides: by component name, any subset of its settings, type-checked. */
export type Overrides<Hosts> = { readonly [P in Placed<Hosts> as P[0]]?: Partial<P[1]> };

/** The names of the components placed in an environment. */
export type ComponentNames<Hosts> = Placed<Hosts>[0];

/** Options of {@link environment}. */
export interface EnvironmentOptions<Hosts extends Readonly<Record<string, HostSpec>>> {
  /**
   * The environment's name, used for `build/<name>/` and in every bundle.
   * @default the module's file name without `.ts` (`env/prod.ts` → `"prod"`;
   *          `env/prod/index.ts` → `"prod"`)
   */
  readonly name?: string;
  /** The hosts by name. The name is also the bundle's file name: `<name>.sh`. */
  readonly hosts: Hosts;
  /**
   * Overrides of component settings for this environment; host-level
   * `component.with({...})` beats these, these beat the defaults.
   * @default {}
   */
  readonly settings?: NoInfer<Overrides<Hosts>>;
  /**
   * Components to leave out on every host, without deleting them from the model.
   * @default []
   */
  readonly ignore?: readonly NoInfer<ComponentNames<Hosts>>[];
  /**
   * What a deploy does with what left the model (a resource deleted from
   * it since the host's last deploy): `"remove"` removes it (a file is
   * deleted, a program stopped, …; see `keep` for single resources);
   * `"report"` only reports it, as `not removed` lines, and keeps track of
   * it until removal is switched on.
   * @default "remove"
   */
  readonly removal?: "remove" | "report";
  /**
   * Rolling deploys, by component name: `depc deploy` restarts the hosts of
   * such a component a batch at a time (see {@link RolloutPolicy}); a
   * component without a policy has all its hosts of a wave run at once.
   * @default {}
   */
  readonly rollout?: { readonly [C in NoInfer<ComponentNames<Hosts>>]?: RolloutPolicy };
}

export interface Environment {
  readonly [SITES]: readonly RawSite[];
  readonly options: EnvironmentOptions<Readonly<Record<string, HostSpec>>>;
}

/**
 * Declares an environment: the hosts of one deployment, what each runs, and
 * the settings that differ here. An environment module default-exports it:
 *
 * ```ts
 * export default environment({
 *   hosts: { app1: [app, supervisor], db1: [postgres] },
 *   settings: { app: { workers: 8 } },
 * });
 * ```
 */
export function environment<const Hosts extends Readonly<Record<string, HostSpec>>>(
  options: EnvironmentOptions<Hosts>,
): Environment {
  return Object.freeze({ [ENVIRONMENT]: true, [SITES]: declarationSites(arguments[1]), options });
}

export function isEnvironment(value: unknown): value is Environment {
  return hasBrand(value, ENVIRONMENT);
}
