import type { HostModel } from "../model.js";
import { hostHasSecrets } from "../secrets/sensitive.js";

export interface ManifestHost {
  readonly name: string;
  readonly address: string;
  readonly user?: string;
  readonly port?: number;
  /** File name of the bundle, beside the manifest. */
  readonly bundle: string;
  /** `sha256:<hex>` of the bundle's bytes. */
  readonly digest: string;
  readonly resources: number;
  /**
   * The hosts this one waits for when deploying: those providing what its
   * components require. Always written; optional for manifests of older builds.
   */
  readonly after?: readonly string[];
  /** Present (true) when the bundle embeds secret values: it is written 0600 and must be handled as a secret. */
  readonly secrets?: true;
  /**
   * How this host leaves the load balancers that require what it provides
   * (`require(key, { drain })`), before its bundle runs when its plan
   * changes something, and comes back after. Absent when none.
   */
  readonly drains?: readonly ManifestDrain[];
}

/** One drain step, run over ssh on the host `via` (the load balancer). */
export type ManifestDrain =
  | { readonly via: string; readonly adapter: "haproxy"; readonly backend: string; readonly server: string; readonly socket: string; readonly timeoutSeconds: number }
  | { readonly via: string; readonly adapter: "command"; readonly leave: readonly string[]; readonly back: readonly string[]; readonly timeoutSeconds: number };

/** A component's rollout policy, resolved against its hosts (environment option `rollout`). */
export interface ManifestRollout {
  /** The hosts running the component, in environment order. */
  readonly hosts: readonly string[];
  /** Batch sizes in hosts; the last repeats. */
  readonly batches: readonly number[];
  readonly pauseSeconds: number;
  /** Failed hosts tolerated before the rollout stops. */
  readonly maxFailed: number;
  readonly onFailure: "stop" | "rollback";
}

/** The machine-readable summary of a build, for `depc deploy` and for CI. */
export interface Manifest {
  readonly depc: string;
  readonly environment: string;
  readonly sources: string;
  readonly hosts: readonly ManifestHost[];
  /**
   * Deploy order: hosts of wave k wait for every host of waves < k (providers
   * before requirers); hosts within a wave are independent.
   */
  readonly waves: readonly (readonly string[])[];
  /**
   * Hosts of earlier builds of this environment (in the same build
   * directory) that this one no longer has: `depc deploy` leaves them alone,
   * `depc decommission` removes what depc put there. Absent when none.
   */
  readonly left?: readonly LeftHost[];
  /** Rolling deploys by component name (see ManifestRollout). Absent when the environment has no policy. */
  readonly rollout?: Readonly<Record<string, ManifestRollout>>;
}

/** A host that left the environment: how to reach it. */
export interface LeftHost {
  readonly name: string;
  readonly address: string;
  readonly user?: string;
  readonly port?: number;
}

export function manifestHost(host: HostModel, digest: string, resources: number, after: readonly string[], drains?: readonly ManifestDrain[]): ManifestHost {
  return {
    name: host.name,
    address: host.address,
    ...(host.user !== undefined ? { user: host.user } : {}),
    ...(host.port !== undefined ? { port: host.port } : {}),
    bundle: `${host.name}.sh`,
    digest,
    resources,
    after,
    ...(hostHasSecrets(host) ? { secrets: true as const } : {}),
    ...(drains !== undefined && drains.length > 0 ? { drains } : {}),
  };
}

export function renderManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
