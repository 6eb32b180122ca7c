import { COMPONENT, COMPONENT_USE, hasBrand } from "./private/brand.js";
import { captureSites, declarationSites, type RawSite } from "./private/site.js";
import type { Key } from "./key.js";
import type { Drain } from "./rollout.js";
import { SITES, type Resource } from "./resource.js";

/**
 * Data about hosts that components may read (batou's `data-*`). Declare
 * its fields once in your project, and every host's `data` is checked:
 *
 * ```ts
 * declare module "depc" {
 *   interface HostData { role?: "primary" | "replica" }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface HostData {}

/** The host a component instance is being built for. */
export interface HostInfo {
  /** The host's name in the environment. */
  readonly name: string;
  /** Address or ssh alias. */
  readonly address: string;
  readonly data: Readonly<HostData>;
}

export interface RequireOptions {
  /** Only providers on this host (by name). */
  readonly host?: string;
  /**
   * Accept no provider at all (an empty list) instead of an error.
   * @default false
   */
  readonly optional?: boolean;
}

export interface ProvideOptions {
  /**
   * Fine if no component requires it: no DEPC4002 then.
   * @default false
   */
  readonly optional?: boolean;
}

/** `require`'s drain: how each provider's instance leaves this component (a load balancer) while its host is deployed. */
export interface DrainOption<T> {
  /**
   * Called with each provided value: how that provider's instance is taken
   * out of this component's rotation before its host is deployed, and put
   * back after (see `haproxyDrain`, `commandDrain`). Render the load
   * balancer's config from the same value, so the names cannot drift. Only
   * hosts whose deploy changes something are drained.
   * @default no drain
   */
  readonly drain?: (value: T) => Drain;
}

/** What a component's build function can ask of depc. */
export interface BuildContext {
  readonly host: HostInfo;
  readonly environment: { readonly name: string };
  /** This instance's name (the component's name unless renamed with `named`). */
  readonly name: string;
  /**
   * Offers a value under `key` to components on any host of the environment.
   * A provide nobody requires is an error (DEPC4002), unless `optional`: for
   * a component that offers something some environments do not use (an app
   * offering its backends to a load balancer that staging does not have).
   */
  provide<T>(key: Key<T>, value: T, options?: ProvideOptions): void;
  /**
   * Every value provided under `key`, in host and declaration order. The
   * providers are deployed first. No provider is an error unless `optional`.
   */
  require<T>(key: Key<T>, options?: RequireOptions & DrainOption<T>): readonly T[];
  /** The one value provided under `key`; zero or several providers are an error. */
  requireOne<T>(key: Key<T>, options?: Pick<RequireOptions, "host">): T;
}

/** Anything a host or a component can hold. */
export type Placeable = Resource | AnyComponent | AnyComponentUse | readonly Placeable[];

/** Options of {@link component}. */
export interface ComponentSpec<Name extends string, Settings extends object> {
  /** The component's name: the key of its overrides in an environment's `settings`. */
  readonly name: Name;
  /**
   * Settings with their defaults; their types are inferred from the defaults.
   * @default {}
   */
  readonly settings?: Settings;
  /**
   * Declares what the component consists of. Resources created here belong
   * to it (returning them is optional); sub-components are returned.
   */
  readonly build: (settings: Readonly<Settings>, ctx: BuildContext) => void | Placeable;
  /**
   * Components that must be converged first on the same host.
   * @default []
   */
  readonly after?: readonly (AnyComponent | AnyComponentUse)[];
}

/** A placement of a component with host-level overrides or another instance name. */
export interface ComponentUse<Name extends string, Settings extends object> {
  readonly [COMPONENT_USE]: true;
  readonly [SITES]: readonly RawSite[];
  readonly component: Component<Name, Settings>;
  readonly overrides: Partial<Settings>;
  readonly instanceName: string;
  /** More overrides, on top of these. */
  with(overrides: Partial<Settings>): ComponentUse<Name, Settings>;
  /** Another instance name, needed to place the component twice on one host. */
  named(instanceName: string): ComponentUse<Name, Settings>;
}

/** A reusable unit of deployment with typed settings. */
export interface Component<Name extends string, Settings extends object> {
  readonly [COMPONENT]: true;
  readonly [SITES]: readonly RawSite[];
  readonly name: Name;
  readonly defaults: Readonly<Settings>;
  readonly spec: ComponentSpec<Name, Settings>;
  /** This component with host-level overrides (they beat the environment's). */
  with(overrides: Partial<Settings>): ComponentUse<Name, Settings>;
  /** This component under another instance name. */
  named(instanceName: string): ComponentUse<Name, Settings>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyComponent = Component<string, any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyComponentUse = ComponentUse<string, any>;

/**
 * Declares a component:
 *
 * ```ts
 * export const app = component({
 *   name: "app",
 *   settings: { port: 8080, root: "/srv/app" },
 *   build(s, ctx) {
 *     Directory({ path: s.root });
 *     File({ path: `${s.root}/app.ini`, content: `port = ${s.port}\n` });
 *   },
 * });
 * ```
 */
export function component<const Name extends string, Settings extends object = Record<never, never>>(
  spec: ComponentSpec<Name, Settings>,
): Component<Name, Settings> {
  const self: Component<Name, Settings> = Object.freeze({
    [COMPONENT]: true as const,
    [SITES]: declarationSites(arguments[1]), // the compiler's site marker, if any
    name: spec.name,
    defaults: Object.freeze({ ...(spec.settings ?? ({} as Settings)) }),
    spec,
    with: (overrides: Partial<Settings>) => use(self, overrides, spec.name),
    named: (instanceName: string) => use(self, {}, instanceName),
  });
  return self;
}

function use<Name extends string, Settings extends object>(
  component: Component<Name, Settings>,
  overrides: Partial<Settings>,
  instanceName: string,
): ComponentUse<Name, Settings> {
  const self: ComponentUse<Name, Settings> = Object.freeze({
    [COMPONENT_USE]: true as const,
    [SITES]: captureSites(),
    component,
    overrides: Object.freeze({ ...overrides }),
    instanceName,
    with: (more: Partial<Settings>) => use(component, { ...overrides, ...more }, instanceName),
    named: (name: string) => use(component, overrides, name),
  });
  return self;
}

export function isComponent(value: unknown): value is AnyComponent {
  return hasBrand(value, COMPONENT);
}

export function isComponentUse(value: unknown): value is AnyComponentUse {
  return hasBrand(value, COMPONENT_USE);
}
