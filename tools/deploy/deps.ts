// Which hosts each host waits for, and the scheduler that runs hosts as soon
// as everything they wait for has converged, at most `jobs` at a time.
import type { DeployHost } from "./source.js";

/**
 * Per host, the hosts it must wait for, as the build recorded them (the
 * compiler decides this once, in order.ts's crossHostDependencies): the
 * manifest's per-host `after`; for a manifest of an older build without it,
 * the waves (a host waits for every host of the earlier waves).
 */
export function hostDependencies(
  hosts: readonly DeployHost[],
  waves: readonly (readonly string[])[] | undefined,
): { deps: Map<string, string[]>; source: "manifest" | "waves" } {
  const names = new Set(hosts.map((h) => h.name));
  const deps = new Map<string, string[]>(hosts.map((h) => [h.name, []]));
  if (hosts.some((h) => Array.isArray(h.after))) {
    for (const h of hosts) deps.set(h.name, [...new Set((h.after ?? []).filter((a) => names.has(a) && a !== h.name))]);
    return { deps, source: "manifest" };
  }
  const earlier: string[] = [];
  for (const wave of waves ?? [[...names]]) {
    for (const h of wave) if (names.has(h)) deps.set(h, [...earlier]);
    earlier.push(...wave.filter((h) => names.has(h)));
  }
  return { deps, source: "waves" };
}

export interface SchedulerHooks<R> {
  /** Runs one host; resolves when it is done. */
  readonly run: (host: string) => Promise<R>;
  /** Whether a finished host lets the hosts that wait for it go. */
  readonly succeeded: (result: R) => boolean;
  /** A host will not run because `dependency` did not converge (`failed`: it failed itself, else it was skipped). */
  readonly skip: (host: string, dependency: string, dependencyFailed: boolean) => R;
  readonly onChange?: (state: { done: number; running: readonly string[]; waiting: number }) => void;
  /**
   * A further condition on a host whose providers are done (a rollout's
   * batches, rollout.ts): start it, let it wait, or skip it with a reason.
   */
  readonly gate?: (host: string) => "go" | "wait" | { readonly skip: string };
  /** The result of a host the gate skipped. */
  readonly skipGated?: (host: string, reason: string) => R;
  /** Resolves when a waiting gate may open (a pause ends); undefined when none will open by itself. */
  readonly gateWake?: () => Promise<void> | undefined;
}

/**
 * Runs `order` (host names, in manifest order) respecting `deps` (only
 * those within `order` count), `jobs` at a time. Hosts become ready in
 * manifest order. Returns the results by host name.
 */
export async function schedule<R>(
  order: readonly string[],
  deps: ReadonlyMap<string, readonly string[]>,
  jobs: number,
  hooks: SchedulerHooks<R>,
  shouldStop: () => boolean = () => false,
): Promise<Map<string, R>> {
  const selected = new Set(order);
  const waitFor = new Map(order.map((h) => [h, (deps.get(h) ?? []).filter((d) => selected.has(d))]));
  const results = new Map<string, R>();
  const running = new Map<string, Promise<void>>();
  const ok = new Set<string>();
  const skipped = new Set<string>();
  const notify = () => hooks.onChange?.({ done: results.size, running: [...running.keys()], waiting: order.length - results.size - running.size });

  const settleSkips = () => {
    let changed = true;
    while (changed) {
      changed = false;
      for (const h of order) {
        if (results.has(h) || running.has(h)) continue;
        const bad = waitFor.get(h)!.find((d) => results.has(d) && !ok.has(d));
        if (bad !== undefined) {
          results.set(h, hooks.skip(h, bad, !skipped.has(bad)));
          skipped.add(h);
          changed = true;
        }
      }
    }
  };

  notify();
  while (results.size < order.length) {
    settleSkips();
    if (shouldStop()) {
      // Interrupted: what has not started will not.
      await Promise.all(running.values());
      break;
    }
    let gatedSkip = false;
    for (const h of order) {
      if (running.size >= jobs) break;
      if (results.has(h) || running.has(h)) continue;
      if (!waitFor.get(h)!.every((d) => ok.has(d))) continue;
      const gate = hooks.gate?.(h) ?? "go";
      if (gate === "wait") continue;
      if (gate !== "go") {
        results.set(h, hooks.skipGated!(h, gate.skip));
        skipped.add(h);
        gatedSkip = true;
        notify();
        continue;
      }
      running.set(
        h,
        hooks.run(h).then((r) => {
          results.set(h, r);
          if (hooks.succeeded(r)) ok.add(h);
          running.delete(h);
          notify();
        }),
      );
      notify();
    }
    if (results.size >= order.length) break;
    // A skip may let others settle or start: look again before waiting.
    if (gatedSkip) continue;
    const wake = hooks.gateWake?.();
    if (running.size === 0 && wake !== undefined) {
      await wake;
      continue;
    }
    if (running.size === 0) {
      // Nothing runs and nothing can start: only skips are left (settled above), or a cycle.
      settleSkips();
      if (results.size < order.length && running.size === 0) {
        for (const h of order) if (!results.has(h)) results.set(h, hooks.skip(h, waitFor.get(h)!.find((d) => !ok.has(d)) ?? h, false));
      }
      break;
    }
    await Promise.race(wake === undefined ? running.values() : [...running.values(), wake]);
  }
  return results;
}
