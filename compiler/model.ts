import type { Location } from "./diagnostics/diagnostic.js";

/**
 * The evaluated model, as the compiler's later phases see it: plain data
 * with a source location on everything a diagnostic may point at.
 */
export interface EnvironmentModel {
  readonly name: string;
  readonly hosts: readonly HostModel[];
  readonly site: Location | undefined;
}

export interface HostModel {
  readonly name: string;
  /** Address or ssh alias; the host's name unless given. */
  readonly address: string;
  readonly user: string | undefined;
  readonly port: number | undefined;
  readonly data: Readonly<Record<string, unknown>>;
  readonly resources: readonly ResourceModel[];
  readonly site: Location | undefined;
}

export interface ResourceModel {
  readonly kind: string;
  readonly props: Readonly<Record<string, unknown>>;
  readonly site: Location | undefined;
  /** Position in the host's declaration order; breaks ties when ordering. */
  readonly declarationIndex: number;
}
