import type { Location } from "./diagnostics/diagnostic.js";

/**
 * The evaluated model, as the compiler's later phases see it: plain data
 * with a source location on everything a diagnostic may point at.
 */
export interface EnvironmentModel {
  readonly name: string;
  readonly hosts: readonly HostModel[];
  readonly site: Location | undefined;
  /** Every resolved provide/require, across hosts. */
  readonly wiring: readonly RequireModel[];
  /** What a deploy does with what left the model (EnvironmentOptions.removal). */
  readonly removal?: "remove" | "report";
  /** EnvironmentOptions.rollout as the model gave it (checked in compiler/rollout.ts). */
  readonly rollout?: unknown;
}

export interface HostModel {
  readonly name: string;
  /** Address or ssh alias; the host's name unless given. */
  readonly address: string;
  readonly user: string | undefined;
  readonly port: number | undefined;
  readonly data: Readonly<Record<string, unknown>>;
  /** Every resource of the host (its own and its components'), in declaration order. */
  readonly resources: readonly ResourceModel[];
  /** Every component instance of the host, parents before their children. */
  readonly components: readonly ComponentModel[];
  readonly site: Location | undefined;
}

export interface ResourceModel {
  readonly kind: string;
  readonly props: Readonly<Record<string, unknown>>;
  readonly site: Location | undefined;
  /** Position in the host's declaration order; breaks ties when ordering. */
  readonly declarationIndex: number;
  /** The component instance that owns it (`ComponentModel.id`), if any. */
  readonly owner: string | undefined;
  /** The stdlib object, to resolve references to it (`after: [file]`) by identity. */
  readonly origin: object;
}

/** Where a setting's value came from, for `depc inspect`. */
export type SettingSource = "default" | "environment" | "host";

export interface SettingValue {
  readonly value: unknown;
  readonly source: SettingSource;
  readonly site: Location | undefined;
}

export interface ComponentModel {
  /** `host/instance[/sub-instance…]`, unique in the environment. */
  readonly id: string;
  /** The instance name (the component's name unless renamed). */
  readonly name: string;
  /** The component's (definition's) name. */
  readonly component: string;
  readonly host: string;
  readonly parent: string | undefined;
  readonly settings: Readonly<Record<string, SettingValue>>;
  /** Where it was placed (the host list entry or the parent's build). */
  readonly site: Location | undefined;
  readonly definitionSite: Location | undefined;
  /** Declaration index of the instance among the host's resources and instances. */
  readonly declarationIndex: number;
  /** The stdlib definition and use objects, to resolve references by identity. */
  readonly definition: object;
  readonly use: object | undefined;
  /** Components (definitions or uses) to converge first on the same host. */
  readonly after: readonly object[];
}

/** A require resolved to its providers. */
export interface RequireModel {
  readonly key: string;
  readonly requirer: string;
  readonly site: Location | undefined;
  /** Provider instance ids, in environment order. */
  readonly providers: readonly string[];
  /** `require(key, { drain })`: per provider, what the callback returned (unchecked). */
  readonly drains?: readonly { readonly provider: string; readonly providerHost: string; readonly drain: unknown }[];
}
