// Rolling deploys: an environment's rollout policy per component, and how
// one instance of a component leaves a load balancer and comes back (drain).
import { DRAIN, hasBrand } from "./private/brand.js";

/** A batch size: a number of hosts, or a percentage of the component's hosts (`"50%"`, rounded down, at least 1). */
export type BatchSize = number | `${number}%`;

/**
 * How `depc deploy` restarts the hosts of one component (environment option
 * `rollout`, by component name). Only hosts whose plan changes something
 * take part: the others are left alone and wait for nobody.
 *
 * ```ts
 * rollout: { app: { batches: [1, "50%"], pause: 5, maxFailed: 0 } }
 * ```
 */
export interface RolloutPolicy {
  /**
   * Batch sizes, in order; the last one repeats for the hosts left. A batch
   * that would take every host of the component at once is an error
   * (DEPC3100) unless {@link allowFullOutage}.
   */
  readonly batches: readonly [BatchSize, ...BatchSize[]];
  /**
   * Seconds to wait after a batch has converged before the next one starts.
   * @default 0
   */
  readonly pause?: number;
  /**
   * How many hosts of the component may fail before the rollout stops (a
   * number, or a percentage of the component's hosts). The batch running
   * when the threshold is passed finishes; later batches do not start, and
   * their hosts are reported `skipped`.
   * @default 0
   */
  readonly maxFailed?: BatchSize;
  /**
   * What a failed host gets: `"stop"` leaves it as the failure left it;
   * `"rollback"` also runs its previous kept bundle (as `depc rollback`).
   * @default "stop"
   */
  readonly onFailure?: "stop" | "rollback";
  /**
   * Allow a batch to hold every host of the component (a component on one
   * host, or batches of `"100%"`): the service is down while they restart.
   * @default false
   */
  readonly allowFullOutage?: boolean;
}

/** The HAProxy adapter's options: one server of one backend, on the host that requires the key. */
export interface HaproxyDrainOptions {
  /** The backend's name in haproxy.cfg (`backend NAME`). */
  readonly backend: string;
  /** The server's name in that backend (`server NAME ADDRESS`). */
  readonly server: string;
  /**
   * The admin socket (`stats socket PATH level admin` in the `global` section).
   * @default "/run/haproxy/admin.sock"
   */
  readonly socket?: string;
  /**
   * Seconds to wait for the server's current sessions (`scur`) to reach 0
   * after `state drain`; the deploy of the host fails when they do not.
   * @default 30
   */
  readonly timeout?: number;
}

/** The generic adapter: two commands run on the host that requires the key. */
export interface CommandDrainOptions {
  /** Takes the instance out of rotation; runs before its host's bundle. Exits 0 when it is out. */
  readonly leave: readonly [string, ...string[]];
  /** Puts it back; runs after its host's bundle converged. */
  readonly back: readonly [string, ...string[]];
  /**
   * Seconds each command may take.
   * @default 60
   */
  readonly timeout?: number;
}

/** How one instance leaves a load balancer and comes back: made by {@link haproxyDrain} or {@link commandDrain}. */
export type Drain =
  | { readonly [DRAIN]: true; readonly adapter: "haproxy"; readonly options: HaproxyDrainOptions }
  | { readonly [DRAIN]: true; readonly adapter: "command"; readonly options: CommandDrainOptions };

/**
 * Drains one server of an HAProxy backend through the admin socket
 * (`set server BACKEND/SERVER state drain`, then waits until `show stat`
 * says it has no session) before its host is deployed, and sets it `ready`
 * after. Use it in the load balancer's `require`, with the same value that
 * renders the server line, so the names cannot drift:
 *
 * ```ts
 * const backends = ctx.require(appBackend, { drain: (b) => haproxyDrain({ backend: "apps", server: b.name }) });
 * ```
 */
export function haproxyDrain(options: HaproxyDrainOptions): Drain {
  return Object.freeze({ [DRAIN]: true as const, adapter: "haproxy" as const, options: Object.freeze({ ...options }) });
}

/** Drains with two commands of your own (argv, no shell), run on the load balancer's host. */
export function commandDrain(options: CommandDrainOptions): Drain {
  return Object.freeze({ [DRAIN]: true as const, adapter: "command" as const, options: Object.freeze({ ...options }) });
}

export function isDrain(value: unknown): value is Drain {
  return hasBrand(value, DRAIN);
}
