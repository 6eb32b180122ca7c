// Rolling deploys: the hosts of a component with a rollout policy (the
// manifest's `rollout`, resolved at build time) restart one batch at a
// time. Only hosts whose pre-check found changes take part; the others
// neither wait nor are waited for. The scheduler (deps.ts) asks `gate`
// before it starts a host whose providers are done.
import { splitBatches } from "../../compiler/rollout.js";
import type { ManifestRollout } from "../../compiler/emit/manifest.js";

export type Gate = "go" | "wait" | { readonly skip: string };

interface BatchState {
  readonly hosts: readonly string[];
  startedAtMs?: number;
  endedAtMs?: number;
  /** When the pause after it ends (ms since the deploy started). */
  pauseUntilMs?: number;
}

interface ComponentState {
  readonly name: string;
  readonly policy: ManifestRollout;
  readonly batches: BatchState[];
  readonly failed: Set<string>;
  readonly converged: Set<string>;
  /** Hosts of the component that were left alone: nothing to change. */
  readonly unchanged: readonly string[];
  stoppedAfter?: number;
  stopReason?: string;
}

export interface RolloutEvents {
  /** A batch's first host starts. */
  readonly batchStarted: (component: string, index: number, count: number, hosts: readonly string[], pausedMs: number) => void;
  readonly batchEnded: (component: string, index: number, count: number, failed: readonly string[], durationMs: number, pauseSeconds: number) => void;
  readonly stopped: (component: string, reason: string, notStarted: readonly string[]) => void;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export class Rollout {
  private readonly components: ComponentState[] = [];
  /** Per host, its (component, batch index) memberships. */
  private readonly memberships = new Map<string, { component: ComponentState; batch: number }[]>();
  private readonly finished = new Set<string>();
  private wakeTimer: { promise: Promise<void>; at: number } | undefined;

  /**
   * policies: the manifest's rollout; selected: the hosts of this run;
   * changing: those whose pre-check found changes (or could not tell).
   */
  constructor(
    policies: Readonly<Record<string, ManifestRollout>>,
    selected: readonly string[],
    changing: ReadonlySet<string>,
    private readonly now: () => number,
    private readonly events: RolloutEvents,
  ) {
    for (const [name, policy] of Object.entries(policies)) {
      const inRun = policy.hosts.filter((h) => selected.includes(h));
      const moving = inRun.filter((h) => changing.has(h));
      const state: ComponentState = {
        name,
        policy,
        batches: splitBatches(moving, policy.batches).map((hosts) => ({ hosts })),
        failed: new Set(),
        converged: new Set(),
        unchanged: inRun.filter((h) => !changing.has(h)),
      };
      this.components.push(state);
      state.batches.forEach((b, batch) => {
        for (const h of b.hosts) this.memberships.set(h, [...(this.memberships.get(h) ?? []), { component: state, batch }]);
      });
    }
  }

  /** The batches per component, for the opening lines. */
  describe(): { component: string; batches: readonly (readonly string[])[]; unchanged: readonly string[]; policy: ManifestRollout }[] {
    return this.components.map((c) => ({ component: c.name, batches: c.batches.map((b) => b.hosts), unchanged: c.unchanged, policy: c.policy }));
  }

  /** Whether `host` may start now (its providers are done). */
  gate(host: string): Gate {
    let verdict: Gate = "go";
    for (const { component, batch } of this.memberships.get(host) ?? []) {
      const g = this.gateIn(component, batch);
      if (typeof g === "object") return g;
      if (g === "wait") verdict = "wait";
    }
    return verdict;
  }

  private gateIn(c: ComponentState, batch: number): Gate {
    if (c.stopReason !== undefined && (c.stoppedAfter ?? -1) < batch) return { skip: c.stopReason };
    for (let k = 0; k < batch; k++) {
      const b = c.batches[k]!;
      if (!b.hosts.every((h) => this.finished.has(h))) return "wait";
      if (b.endedAtMs === undefined) this.endBatch(c, k);
      if (c.stopReason !== undefined) return { skip: c.stopReason };
    }
    if (batch > 0) {
      const until = c.batches[batch - 1]!.pauseUntilMs ?? 0;
      if (this.now() < until) {
        this.scheduleWake(until);
        return "wait";
      }
    }
    return "go";
  }

  private endBatch(c: ComponentState, k: number): void {
    const b = c.batches[k]!;
    b.endedAtMs = this.now();
    b.pauseUntilMs = b.endedAtMs + c.policy.pauseSeconds * 1000;
    const failed = b.hosts.filter((h) => c.failed.has(h));
    this.events.batchEnded(c.name, k, c.batches.length, failed, b.endedAtMs - (b.startedAtMs ?? b.endedAtMs), k < c.batches.length - 1 ? c.policy.pauseSeconds : 0);
    if (c.failed.size > c.policy.maxFailed && k < c.batches.length - 1) {
      c.stoppedAfter = k;
      c.stopReason = `the rollout of ${c.name} stopped after batch ${k + 1}/${c.batches.length}: ${plural(c.failed.size, "host")} failed (${[...c.failed].join(", ")}), more than maxFailed ${c.policy.maxFailed}`;
      const notStarted = c.batches.slice(k + 1).flatMap((x) => x.hosts);
      this.events.stopped(c.name, c.stopReason, notStarted);
    }
  }

  private scheduleWake(at: number): void {
    if (this.wakeTimer !== undefined && this.wakeTimer.at <= at) return;
    const promise = new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, at - this.now())));
    this.wakeTimer = { promise, at };
  }

  /** Resolves when a pause ends (something may start then); undefined when no pause is running. */
  wake(): Promise<void> | undefined {
    const w = this.wakeTimer;
    if (w === undefined) return undefined;
    return w.promise.then(() => {
      if (this.wakeTimer === w) this.wakeTimer = undefined;
    });
  }

  started(host: string): void {
    for (const { component: c, batch } of this.memberships.get(host) ?? []) {
      const b = c.batches[batch]!;
      if (b.startedAtMs === undefined) {
        b.startedAtMs = this.now();
        const prev = batch > 0 ? c.batches[batch - 1] : undefined;
        const paused = prev?.endedAtMs !== undefined ? b.startedAtMs - prev.endedAtMs : 0;
        this.events.batchStarted(c.name, batch, c.batches.length, b.hosts, paused);
      }
    }
  }

  /** A host of the run is done: converged (ok) or not (failed, error, skipped for its providers); "stopped": skipped by a stopped rollout. */
  done(host: string, ok: boolean | "stopped"): void {
    this.finished.add(host);
    for (const { component: c, batch } of this.memberships.get(host) ?? []) {
      if (ok === "stopped" || (c.stoppedAfter !== undefined && batch > c.stoppedAfter)) continue;
      (ok ? c.converged : c.failed).add(host);
      const b = c.batches[batch]!;
      if (b.endedAtMs === undefined && b.hosts.every((h) => this.finished.has(h))) this.endBatch(c, batch);
    }
  }

  /** For the progress line: each component's current batch (`app batch 2/3`), or its pause. */
  progress(): string {
    const parts: string[] = [];
    for (const c of this.components) {
      if (c.batches.length === 0 || c.stopReason !== undefined) continue;
      const k = c.batches.findIndex((b) => b.endedAtMs === undefined);
      if (k < 0) continue;
      const prev = k > 0 ? c.batches[k - 1] : undefined;
      const wait = prev?.pauseUntilMs !== undefined && c.batches[k]!.startedAtMs === undefined ? prev.pauseUntilMs - this.now() : 0;
      parts.push(`${c.name} batch ${k + 1}/${c.batches.length}${wait > 0 ? ` in ${Math.ceil(wait / 1000)}s` : ""}`);
    }
    return parts.join(", ");
  }

  /** The batch of `host` in each component, for its line in the JSON report. */
  membership(host: string): { component: string; batch: number }[] {
    return (this.memberships.get(host) ?? []).map((m) => ({ component: m.component.name, batch: m.batch + 1 }));
  }

  json(): Record<string, unknown> {
    return Object.fromEntries(
      this.components.map((c) => [
        c.name,
        {
          policy: { batches: c.policy.batches, pause_seconds: c.policy.pauseSeconds, max_failed: c.policy.maxFailed, on_failure: c.policy.onFailure },
          unchanged: c.unchanged,
          batches: c.batches.map((b, i) => ({
            index: i + 1,
            hosts: b.hosts,
            started_at_ms: b.startedAtMs === undefined ? null : Math.round(b.startedAtMs),
            ended_at_ms: b.endedAtMs === undefined ? null : Math.round(b.endedAtMs),
            duration_ms: b.startedAtMs === undefined || b.endedAtMs === undefined ? null : Math.round(b.endedAtMs - b.startedAtMs),
            failed: b.hosts.filter((h) => c.failed.has(h)),
          })),
          failed: [...c.failed],
          stopped: c.stopReason === undefined ? null : { after_batch: (c.stoppedAfter ?? 0) + 1, reason: c.stopReason },
        },
      ]),
    );
  }
}
