// Runs a deploy, plan or rollback over a set of hosts: scheduling, live
// output, the final table, the --json report and the exit code.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { depcVersion } from "../../compiler/package-info.js";
import { visible } from "../../compiler/visible.js";
import type { Cause, Outcome } from "./classify.js";
import { hostDependencies, schedule } from "./deps.js";
import { drainLine, runDrain, type DrainResult } from "./drain.js";
import type { EarlySessions } from "./early.js";
import { Rollout } from "./rollout.js";
import { programLine, remoteCommand, ROLLBACK_PROGRAM, RUN_PROGRAM } from "./remote.js";
import { collectResources, OutputCollector, type HostResult, type HostStatus, type Mode } from "./results.js";
import { chooseRollback } from "./rollback.js";
import type { DeployHost, DeploySource } from "./source.js";
import { runSsh, type RunHandle, type SshEvents, type SshSettings } from "./ssh.js";
import type { MarkerStream } from "./stream.js";
import { trace } from "./trace.js";
import { Printer, seconds, type PrinterIo } from "./ui.js";

export type Command = "deploy" | "plan" | "rollback" | "decommission";

export interface RunOptions {
  readonly command: Command;
  readonly jobs: number;
  readonly limit: readonly string[];
  readonly skip: readonly string[];
  /** Overrides the manifest's ssh user of every host. */
  readonly user?: string;
  readonly sudo: boolean;
  readonly ssh: SshSettings;
  /** Passed to the bundle as --state-dir (a path on the host). */
  readonly stateDir?: string;
  /** Rollback target (digest or prefix). */
  readonly to?: string;
  readonly json?: string;
  readonly cwd: string;
  /** Sessions opened while the model was built (early.ts): a host takes its own when its target matches. */
  readonly early?: EarlySessions;
}

/** The bundle's arguments on the host. */
export function bundleArgsOf(mode: Mode, stateDir: string | undefined): string[] {
  return [...(mode === "check" ? ["--check"] : []), "--quiet", ...(stateDir !== undefined ? ["--state-dir", stateDir] : [])];
}

/** Exit codes of deploy/plan/rollback. */
export const DEPLOY_EXIT = { ok: 0, failed: 1, pending: 2, interrupted: 130 } as const;

const hostWord = (n: number) => `${n} host${n === 1 ? "" : "s"}`;

/** Checks --limit/--skip against the manifest; returns the hosts to run, in manifest order. */
export function selectHosts(hosts: readonly DeployHost[], limit: readonly string[], skip: readonly string[]): { ok: true; names: string[] } | { ok: false; message: string } {
  const known = new Set(hosts.map((h) => h.name));
  const unknown = [...limit, ...skip].filter((h) => !known.has(h));
  if (unknown.length > 0) {
    return { ok: false, message: `unknown host${unknown.length === 1 ? "" : "s"} ${unknown.map((h) => JSON.stringify(h)).join(", ")}; the hosts are: ${[...known].join(", ")}` };
  }
  const names = hosts.map((h) => h.name).filter((h) => (limit.length === 0 || limit.includes(h)) && !skip.includes(h));
  if (names.length === 0) return { ok: false, message: "no host left to run after --limit/--skip" };
  return { ok: true, names };
}

export async function runHosts(source: DeploySource, options: RunOptions, io: PrinterIo): Promise<number> {
  trace("runHosts starts");
  const started = performance.now();
  const startedAt = new Date();
  const { manifest } = source;
  const mode: Mode = options.command === "plan" ? "check" : "apply";
  const selected = selectHosts(manifest.hosts, options.limit, options.skip);
  if (!selected.ok) {
    io.stderr(`depc: ${selected.message}\n`);
    return DEPLOY_EXIT.failed;
  }
  const byName = new Map(manifest.hosts.map((h) => [h.name, h]));
  const order = selected.names;
  const { deps, source: depSource } = hostDependencies(manifest.hosts, manifest.waves);
  // A plan changes nothing: hosts need not wait for each other.
  const effectiveDeps = options.command === "plan" ? new Map<string, string[]>() : deps;
  const printer = new Printer(io, Math.max(...order.map((h) => h.length)));
  const verb = { deploy: "deploying", plan: "planning", rollback: "rolling back", decommission: "decommissioning" }[options.command];
  printer.out(
    `depc: ${verb} ${manifest.environment}: ${hostWord(order.length)}${order.length < manifest.hosts.length ? ` of ${manifest.hosts.length}` : ""}` +
      ` from ${source.buildDir}${options.sudo ? ", with sudo" : ""}\n`,
  );
  // Hosts of earlier builds that the model no longer has: never touched by a deploy.
  if (options.command !== "decommission") {
    for (const h of manifest.left ?? []) {
      printer.out(
        `depc: host ${h.name} left environment ${manifest.environment}: it is left alone (what depc put there stays; remove it with 'depc decommission ${manifest.environment} --host ${h.name} --yes')\n`,
      );
    }
  }

  let interrupted = false;
  const handles = new Set<RunHandle>();
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    printer.err("depc: interrupted: stopping the running hosts\n");
    for (const h of handles) h.interrupt();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const hostStarted = new Map<string, number>();
  // Set once the pre-check is done (the progress line reads it before).
  let rollout: Rollout | undefined;
  const ticker = io.tty ? setInterval(() => progress(), 250) : undefined;
  ticker?.unref();
  let progressState = { done: 0, running: [] as readonly string[], waiting: order.length };
  const progress = () => {
    const { done, running, waiting } = progressState;
    const now = performance.now();
    const list = running.map((h) => `${h} ${seconds(now - (hostStarted.get(h) ?? now))}`).join(", ");
    const batches = rollout?.progress() ?? "";
    printer.progress(`depc: ${done}/${order.length} done, ${running.length} running${list ? ` (${list})` : ""}, ${waiting} waiting${batches ? `; rollout: ${batches}` : ""}`);
  };

  const sshTarget = (name: string) => {
    const h = byName.get(name)!;
    return {
      address: h.address,
      ...(options.user !== undefined ? { user: options.user } : h.user !== undefined ? { user: h.user } : {}),
      ...(h.port !== undefined ? { port: h.port } : {}),
    };
  };
  const clock = () => performance.now() - started;

  // One round trip: every host's session is opened now, in parallel (the
  // bootstrap waits on the host for its program line), and handed its
  // bundle when its providers are done, so a later wave pays no handshake.
  // The host's lock, order, skips and causes are those of a session opened
  // at its turn: nothing runs on a host before the bundle arrives, and an
  // unused session (a skipped host) ends on the host without running anything.
  const opened = new Map<string, OpenedHost>();
  const waveOf = new Map((manifest.waves ?? []).flatMap((w, i) => w.map((h) => [h, i] as const)));
  // Earlier waves first: their hosts start first. At most -j sessions wait idle at a time
  // (a bastion's sshd refuses bursts of new connections: MaxStartups).
  const toOpen = options.command === "deploy" || options.command === "plan" ? [...order].sort((a, b) => (waveOf.get(a) ?? 0) - (waveOf.get(b) ?? 0)) : [];
  /** Hosts that will not run (skipped): no session for them. */
  const notRunning = new Set<string>();
  const openMore = () => {
    while (opened.size < Math.max(1, options.jobs) && toOpen.length > 0 && !interrupted) {
      const name = toOpen.shift()!;
      if (notRunning.has(name)) continue;
      opened.set(name, openHost(byName.get(name)!, source.bundles.get(name)!, manifest.environment, options, mode, printer, handles, true));
    }
  };
  openMore();
  // The hosts that go first have taken theirs: the rest of the early sessions are not needed.
  options.early?.cancelRest();
  const runBundle = (name: string) => {
    const session = opened.get(name);
    opened.delete(name);
    const i = toOpen.indexOf(name);
    if (i >= 0) toOpen.splice(i, 1);
    openMore();
    return session !== undefined ? session.run() : runHost(byName.get(name)!, source.bundles.get(name)!, manifest.environment, options, mode, printer, handles);
  };
  const drainContext = { target: sshTarget, ssh: options.ssh, sudo: options.sudo, handles, clock };

  // Rolling deploys and drains act only on hosts whose plan changes something:
  // a pre-check (the bundle with --check) of the hosts they concern tells which.
  const policies = options.command === "deploy" ? (manifest.rollout ?? {}) : {};
  const rolled = new Set(Object.values(policies).flatMap((p) => p.hosts));
  const precheckHosts = options.command === "deploy" ? order.filter((h) => rolled.has(h) || (byName.get(h)!.drains?.length ?? 0) > 0) : [];
  const changing = new Set<string>();
  const precheck = new Map<string, { status: HostStatus; ms: number }>();
  if (precheckHosts.length > 0) {
    const quiet = new Printer({ stdout() {}, stderr() {}, color: false, tty: false }, 1);
    const queue = [...precheckHosts];
    const worker = async () => {
      for (let h = queue.shift(); h !== undefined && !interrupted; h = queue.shift()) {
        const t0 = performance.now();
        const r = await runHost(byName.get(h)!, source.bundles.get(h)!, manifest.environment, { ...options, command: "plan" }, "check", quiet, handles);
        precheck.set(h, { status: r.status, ms: Math.round(performance.now() - t0) });
        // Clean: nothing to restart. Anything else (pending, or the check could not tell) takes part.
        if (r.status !== "clean") changing.add(h);
      }
    };
    await Promise.all(Array.from({ length: Math.min(Math.max(1, options.jobs), queue.length) }, worker));
    const unchanged = precheckHosts.filter((h) => !changing.has(h));
    printer.out(
      `depc: pre-check: ${changing.size > 0 ? `${[...changing].join(", ")} ${changing.size === 1 ? "has" : "have"} changes` : "no host has changes"}` +
        `${unchanged.length > 0 ? `; ${unchanged.join(", ")} up to date (not drained, not batched)` : ""}\n`,
    );
  }
  rollout =
    Object.keys(policies).length > 0
      ? new Rollout(policies, order, changing, clock, {
          batchStarted: (c, i, n, hosts, pausedMs) =>
            printer.out(`depc: rollout ${c}: batch ${i + 1}/${n} starts: ${hosts.join(", ")}${pausedMs > 0 ? ` (after a ${seconds(pausedMs)} pause)` : ""}\n`),
          batchEnded: (c, i, n, failed, ms, pause) =>
            printer.out(
              `depc: rollout ${c}: batch ${i + 1}/${n} done in ${seconds(ms)}${failed.length > 0 ? `: ${failed.join(", ")} failed` : ": converged"}` +
                `${pause > 0 && failed.length === 0 ? `; next batch in ${pause}s` : ""}\n`,
            ),
          stopped: (_c, reason, notStarted) => printer.err(`depc: ${reason}; not started: ${notStarted.join(", ")}\n`),
        })
      : undefined;
  for (const r of rollout?.describe() ?? []) {
    if (r.batches.length === 0) continue;
    const p = r.policy;
    printer.out(
      `depc: rollout ${r.component}: ${r.batches.length} batch${r.batches.length === 1 ? "" : "es"}: ${r.batches.map((b) => b.join(", ")).join(" | ")}` +
        ` (pause ${p.pauseSeconds}s, maxFailed ${p.maxFailed}, on failure ${p.onFailure})\n`,
    );
  }
  const onFailureOf = (name: string) =>
    Object.values(policies).some((p) => p.onFailure === "rollback" && p.hosts.includes(name)) ? ("rollback" as const) : ("stop" as const);
  const extras = new Map<string, Record<string, unknown>>();

  const runOne = async (name: string): Promise<HostResult> => {
    const host = byName.get(name)!;
    rollout?.started(name);
    const t0 = performance.now();
    hostStarted.set(name, t0);
    const drains = changing.has(name) ? (host.drains ?? []) : [];
    const drainResults: DrainResult[] = [];
    const step = async (d: (typeof drains)[number], action: "leave" | "back") => {
      const r = await runDrain(d, action, drainContext);
      drainResults.push(r);
      printer.hostLine(name, r.outcome === "fail" ? "failed" : action === "leave" ? "drain" : "ready", drainLine(r));
      return r;
    };
    let result: HostResult | undefined;
    for (let i = 0; i < drains.length && result === undefined; i++) {
      const r = await step(drains[i]!, "leave");
      if (r.outcome !== "fail") continue;
      // Put back what this host already left (a failed drain may have half-happened): it keeps serving, untouched.
      for (const d of drains.slice(0, i + 1)) await step(d, "back");
      result = { ...identity(host), status: "error", cause: { kind: "drain", message: `not deployed: ${drainLine(r)}` }, resources: [] };
    }
    let rollback: Record<string, unknown> | undefined;
    if (result === undefined) {
      result = await runBundle(name);
      let serving = result.status === "converged";
      if (!serving && !interrupted && rollout !== undefined && onFailureOf(name) === "rollback" && result.status !== "skipped") {
        const back = await runHost(host, source.bundles.get(name)!, manifest.environment, { ...options, command: "rollback", to: undefined }, mode, printer, handles);
        rollback = { status: back.status, ...(back.rolledBackTo !== undefined ? { to: back.rolledBackTo } : {}), ...(back.cause ? { cause: back.cause.message } : {}) };
        serving = back.status === "converged";
      }
      if (serving) {
        for (const d of drains) {
          const r = await step(d, "back");
          if (r.outcome === "fail" && result.status === "converged") {
            result = { ...result, status: "error", cause: { kind: "drain", message: `converged, but not back in rotation: ${drainLine(r)}` } };
          }
        }
      } else if (drains.length > 0) {
        printer.hostLine(name, "drain", `stays out of rotation on ${[...new Set(drains.map((d) => d.via))].join(", ")}: its deploy did not converge`);
      }
    }
    rollout?.done(name, result.status === "converged");
    const membership = rollout?.membership(name) ?? [];
    extras.set(name, {
      ...(membership.length > 0 ? { rollout: membership } : {}),
      ...(precheck.has(name) ? { precheck: { status: precheck.get(name)!.status, duration_ms: precheck.get(name)!.ms } } : {}),
      ...(drainResults.length > 0
        ? { drains: drainResults.map((d) => ({ via: d.via, action: d.action, adapter: d.adapter, outcome: d.outcome, message: d.message, started_at_ms: d.startedAtMs, duration_ms: d.durationMs })) }
        : {}),
      ...(rollback ? { rollback } : {}),
    });
    // Both ends rounded as offsets from the start, so a host that started after another ended never shows earlier.
    const startedAtMs = Math.round(t0 - started);
    return { ...result, startedAtMs, durationMs: Math.round(performance.now() - started) - startedAtMs };
  };

  let results: Map<string, HostResult>;
  try {
    results = await schedule(
      order,
      effectiveDeps,
      Math.max(1, options.jobs),
      {
        run: runOne,
        succeeded: (r) => r.status === "converged",
        skip: (h, dep, failedItself) => {
          const r = skipped(byName.get(h)!, { kind: "dependency", message: `skipped: waits for ${dep}, which ${failedItself ? "did not converge" : "was skipped"}` });
          printer.hostLine(h, "skipped", r.cause!.message.replace(/^skipped: /, ""));
          rollout?.done(h, false);
          notRunning.add(h);
          opened.get(h)?.handle.cancel();
          opened.delete(h);
          return r;
        },
        ...(rollout !== undefined
          ? {
              gate: (h: string) => rollout.gate(h),
              gateWake: () => rollout.wake(),
              skipGated: (h: string, reason: string) => {
                rollout.done(h, "stopped");
                notRunning.add(h);
                opened.get(h)?.handle.cancel();
                opened.delete(h);
                const r = skipped(byName.get(h)!, { kind: "rollout", message: `skipped: ${reason}` });
                printer.hostLine(h, "skipped", `${reason}: left untouched`);
                return r;
              },
            }
          : {}),
        onChange: (state) => {
          progressState = state;
          progress();
        },
      },
      () => interrupted,
    );
  } finally {
    for (const session of opened.values()) session.handle.cancel();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (ticker) clearInterval(ticker);
    printer.stopProgress();
  }
  for (const h of order) {
    if (!results.has(h)) results.set(h, skipped(byName.get(h)!, { kind: "interrupted", message: "skipped: interrupted before it started" }));
  }
  trace("every host done");
  const list = order.map((h) => results.get(h)!);
  printer.table(list, mode);

  const count = (s: HostStatus) => list.filter((r) => r.status === s).length;
  const changed = list.reduce((n, r) => n + (r.counts?.changed ?? 0), 0);
  const would = list.reduce((n, r) => n + (r.counts?.wouldChange ?? 0), 0);
  const removed = list.reduce((n, r) => n + (r.counts?.removed ?? 0), 0);
  const wouldRemove = list.reduce((n, r) => n + (r.counts?.wouldRemove ?? 0), 0);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const bad = count("failed") + count("error") + count("skipped");
  const exit = interrupted
    ? DEPLOY_EXIT.interrupted
    : bad > 0
      ? DEPLOY_EXIT.failed
      : options.command === "plan" && count("pending") > 0
        ? DEPLOY_EXIT.pending
        : DEPLOY_EXIT.ok;
  const elapsed = seconds(performance.now() - started);
  const parts: string[] = [];
  if (count("pending") > 0) parts.push(`${count("pending")} with changes (${plural(would, "resource")}${wouldRemove > 0 ? `, ${plural(wouldRemove, "removal")}` : ""})`);
  if (count("clean") > 0) parts.push(`${count("clean")} up to date`);
  if (count("converged") > 0) parts.push(`${count("converged")} converged (${plural(changed, "resource")} changed${removed > 0 ? `, ${removed} removed` : ""})`);
  if (count("failed") > 0) parts.push(`${count("failed")} failed`);
  if (count("error") > 0) parts.push(`${count("error")} error${count("error") === 1 ? "" : "s"} (not run to the end)`);
  if (count("skipped") > 0) parts.push(`${count("skipped")} skipped`);
  const done = { deploy: "deployed", plan: "planned", rollback: "rolled back", decommission: "decommissioned" }[options.command];
  printer.out(`depc: ${done} ${manifest.environment}: ${hostWord(list.length)}: ${parts.join(", ")} in ${elapsed}\n`);

  if (options.json !== undefined) {
    const file = resolve(options.cwd, options.json);
    const report = {
      depc: depcVersion,
      command: options.command,
      environment: manifest.environment,
      sources: manifest.sources,
      build: source.buildDir,
      started: startedAt.toISOString(),
      duration_ms: Math.round(performance.now() - started),
      exit,
      options: {
        jobs: options.jobs,
        limit: options.limit,
        skip: options.skip,
        user: options.user ?? null,
        sudo: options.sudo,
        ssh_config: options.ssh.configFile ?? null,
        ssh_options: options.ssh.options,
        state_dir: options.stateDir ?? null,
        ...(options.command === "rollback" ? { to: options.to ?? null } : {}),
      },
      order: { source: options.command === "plan" ? "none" : depSource, waves: manifest.waves ?? [], after: Object.fromEntries(order.map((h) => [h, effectiveDeps.get(h) ?? []])) },
      totals: {
        hosts: list.length,
        converged: count("converged"),
        clean: count("clean"),
        pending: count("pending"),
        failed: count("failed"),
        error: count("error"),
        skipped: count("skipped"),
        changed,
        would_change: would,
        removed,
        would_remove: wouldRemove,
      },
      ...(rollout !== undefined || precheck.size > 0
        ? {
            rollout: {
              changing: [...changing],
              unchanged: precheckHosts.filter((h) => !changing.has(h)),
              components: rollout?.json() ?? {},
            },
          }
        : {}),
      hosts: list.map((r) => ({ ...hostJson(r), ...(extras.get(r.name) ?? {}) })),
    };
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
      trace("JSON report written");
    } catch (error) {
      io.stderr(`depc: cannot write the JSON report to ${options.json}: ${(error as Error).message}\n`);
      return exit === DEPLOY_EXIT.ok ? DEPLOY_EXIT.failed : exit;
    }
  }
  return exit;
}

function skipped(host: DeployHost, cause: Cause): HostResult {
  return { ...identity(host), status: "skipped", cause, resources: [] };
}

function identity(host: DeployHost): Pick<HostResult, "name" | "address" | "user" | "port" | "digest"> {
  return {
    name: host.name,
    address: host.address,
    ...(host.user !== undefined ? { user: host.user } : {}),
    ...(host.port !== undefined ? { port: host.port } : {}),
    digest: host.digest,
  };
}

/** One host: start ssh, stream the bundle (or pick a kept one), print its changes, collect its result. */
function runHost(
  host: DeployHost,
  bundle: Buffer,
  environment: string,
  options: RunOptions,
  mode: Mode,
  printer: Printer,
  handles: Set<RunHandle>,
): Promise<HostResult> {
  return openHost(host, bundle, environment, options, mode, printer, handles, false).run();
}

/** An opened host session: `run` sends the program and bundle (when `deferred`) and collects the result. */
interface OpenedHost {
  readonly handle: RunHandle;
  readonly run: () => Promise<HostResult>;
}

/**
 * Starts one host's ssh session. `deferred`: only open it (connect,
 * authenticate, the bootstrap waits for its program line); `run` sends the
 * program and bundle. Otherwise they go at once.
 */
function openHost(
  host: DeployHost,
  bundle: Buffer,
  environment: string,
  options: RunOptions,
  mode: Mode,
  printer: Printer,
  handles: Set<RunHandle>,
  deferred: boolean,
): OpenedHost {
  const bundleArgs = bundleArgsOf(mode, options.stateDir);
  const rollback = options.command === "rollback";
  const target = {
    address: host.address,
    ...(options.user !== undefined ? { user: options.user } : host.user !== undefined ? { user: host.user } : {}),
    ...(host.port !== undefined ? { port: host.port } : {}),
  };
  // A session opened while the model was built takes its size on stdin (SIZE_ON_STDIN).
  const early = deferred && !rollback ? options.early?.take(host.name, target, options.ssh, bundleArgs, options.sudo) : undefined;
  const nonce = early?.nonce ?? randomBytes(12).toString("hex");
  const command = rollback
    ? remoteCommand([nonce, environment, options.stateDir ?? "", ...bundleArgs], options.sudo)
    : remoteCommand([nonce, String(bundle.length), ...bundleArgs], options.sudo);
  const program = programLine(rollback ? ROLLBACK_PROGRAM : RUN_PROGRAM);
  const output = new OutputCollector();
  const warnings: string[] = [];
  let choice: ReturnType<typeof chooseRollback> | undefined;
  let handle!: RunHandle;
  const input = rollback ? program : Buffer.concat([Buffer.from(program), ...(early ? [Buffer.from(`${bundle.length}\n`)] : []), bundle]);
  const events: SshEvents = {
    stderrLine: (line) => {
      // The bundle's warnings (depc: ENV/HOST: warning: ...), live.
      const warning = /^depc: [^\s:]+: warning: (.*)$/.exec(line)?.[1];
      if (warning !== undefined) {
        warnings.push(warning);
        printer.hostLine(host.name, "warning", warning);
      }
    },
    output: (line) => {
      const under = output.lines.at(-1);
      const parsed = output.push(line);
      if (parsed && mode === "apply" && parsed.status !== "ok") printer.hostLine(host.name, parsed.status, parsed.text);
      // A failure's output, indented under its failed line by the bundle: under it here too.
      else if (!parsed && mode === "apply" && under?.status === "failed" && output.summary === undefined && line.startsWith("    ")) printer.hostLine(host.name, "", line);
    },
    marker: (word) => {
      if (word !== "choose") return;
      // stream.kept/log are complete at this point.
      const { kept, log, order } = handle.stream;
      choice = chooseRollback(kept, log, options.to, order);
      if (choice.ok) {
        const from = choice.current !== undefined && choice.current !== choice.digest ? ` (from ${choice.current.slice(0, 12)})` : "";
        printer.hostLine(host.name, "rollback", `to ${choice.digest.slice(0, 12)}${from}`);
      }
      handle.answer(choice.ok ? choice.digest : "");
    },
  };
  if (early) {
    handle = early.handle;
    handle.attach(events);
  } else {
    handle = runSsh(target, options.ssh, command, nonce, { ...(deferred ? {} : { input }), sudo: options.sudo, events, label: host.name });
  }
  handles.add(handle);
  void handle.done.then(() => handles.delete(handle));
  return {
    handle,
    run: async () => {
      if (deferred) handle.send(input);
      const { outcome, stream: finished, stderr } = await handle.done;
      trace(`${host.name}: result`);
      return collectHost(host, mode, options, printer, { outcome, finished, stderr, choice, output, warnings });
    },
  };
}

/** One host's result from how its run ended: status, counts, resources; prints its summary line. */
function collectHost(
  host: DeployHost,
  mode: Mode,
  options: RunOptions,
  printer: Printer,
  ended: {
    readonly outcome: Outcome;
    readonly finished: MarkerStream;
    readonly stderr: string;
    readonly choice: ReturnType<typeof chooseRollback> | undefined;
    readonly output: OutputCollector;
    readonly warnings: readonly string[];
  },
): HostResult {
  const { outcome, finished, stderr, choice, output, warnings } = ended;
  const rollback = options.command === "rollback";
  const base = identity(host);
  const rolledBackTo = rollback && choice?.ok ? { rolledBackTo: `sha256:${choice.digest}` } : {};

  if (rollback && choice && !choice.ok) {
    const state = finished.get("state");
    printer.hostLine(host.name, "error", choice.message);
    if (choice.listing.length > 0) printer.out(visible(`${host.name}: kept bundles in ${state ?? "the state directory"} (newest first):\n${choice.listing.join("\n")}\n`));
    return { ...base, status: "error", cause: { kind: "not-found", message: choice.message }, resources: [] };
  }
  if (!outcome.ran) {
    printer.hostLine(host.name, "error", outcome.cause.message);
    return { ...base, ...rolledBackTo, status: "error", cause: outcome.cause, resources: [], ...(stderr.trim() ? { stderr: tail(stderr) } : {}) };
  }
  const { resources, counts } = collectResources(finished.reportLines, output, mode, host.resources);
  let status: HostStatus;
  if (outcome.exit === 0) status = mode === "check" ? "clean" : "converged";
  else if (outcome.exit === 2 && mode === "check") status = "pending";
  else if (outcome.exit === 1 && (counts?.failed ?? 0) + (counts?.removalFailed ?? 0) > 0) status = "failed";
  else status = "error";
  if (mode === "check") printPlan(printer, host.name, output);
  const removals = counts
    ? [
        counts.removed ? `, ${counts.removed} removed` : "",
        counts.wouldRemove ? `, ${counts.wouldRemove} would remove` : "",
        counts.notRemoved ? `, ${counts.notRemoved} not removed (report-only)` : "",
        counts.removalFailed ? `, ${counts.removalFailed} removal failed` : "",
      ].join("")
    : "";
  const summary = counts
    ? mode === "check"
      ? `${counts.wouldChange} would change, ${counts.ok} ok${counts.failed ? `, ${counts.failed} failed` : ""}${removals}`
      : `${counts.changed} changed, ${counts.ok} ok${counts.failed ? `, ${counts.failed} failed` : ""}${counts.notRun ? `, ${counts.notRun} not run` : ""}${removals}`
    : "";
  if (status === "error") printer.hostLine(host.name, "error", outcome.cause?.message ?? `the bundle exited ${outcome.exit}`);
  else printer.hostLine(host.name, status, summary);
  return {
    ...base,
    ...rolledBackTo,
    status,
    ...(outcome.cause && status !== "converged" ? { cause: outcome.cause } : {}),
    exit: outcome.exit,
    ...(counts ? { counts } : {}),
    resources,
    ...(output.summary ? { summary: output.summary } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
    ...(status === "failed" || status === "error" ? { stderr: tail(stderr) } : {}),
  };
}

/** A plan's block for one host: each pending change and its diff, every line prefixed by the host. */
function printPlan(printer: Printer, host: string, output: OutputCollector): void {
  let text = "";
  for (const line of output.lines) {
    if (line.status === "ok") continue;
    text += printer.format(host, line.status, line.text);
    for (const d of line.diff) {
      const paintAs = d.startsWith("+") && !d.startsWith("+++ ") ? "converged" : d.startsWith("-") && !d.startsWith("--- ") ? "failed" : undefined;
      text += printer.format(host, "", `  ${d}`, paintAs);
    }
  }
  if (text !== "") printer.out(text);
}

const tail = (stderr: string) => stderr.trim().split("\n").slice(-20).join("\n");

export function hostJson(r: HostResult): Record<string, unknown> {
  return {
    name: r.name,
    address: r.address,
    ...(r.user !== undefined ? { user: r.user } : {}),
    ...(r.port !== undefined ? { port: r.port } : {}),
    digest: r.digest,
    ...(r.rolledBackTo !== undefined ? { rolled_back_to: r.rolledBackTo } : {}),
    status: r.status,
    ...(r.cause ? { cause: { kind: r.cause.kind, message: r.cause.message } } : {}),
    ...(r.exit !== undefined ? { exit: r.exit } : {}),
    ...(r.counts
      ? {
          counts: {
            resources: r.counts.resources,
            ok: r.counts.ok,
            changed: r.counts.changed,
            would_change: r.counts.wouldChange,
            failed: r.counts.failed,
            not_run: r.counts.notRun,
            removed: r.counts.removed,
            would_remove: r.counts.wouldRemove,
            not_removed: r.counts.notRemoved,
            removal_failed: r.counts.removalFailed,
          },
        }
      : {}),
    timings: { started_at_ms: r.startedAtMs ?? null, duration_ms: r.durationMs ?? null },
    resources: r.resources.map((x) => ({
      ...(x.index !== undefined ? { index: x.index } : {}),
      ...(x.removal ? { removal: true } : {}),
      kind: x.kind,
      key: x.key,
      status: x.status,
      changes: x.changes,
      ...(x.detail !== undefined ? { detail: x.detail } : {}),
      ...(x.error !== undefined ? { error: x.error } : {}),
      ...(x.diff ? { diff: { added: x.diff.added, removed: x.diff.removed, ...(x.diff.binary ? { binary: true } : {}) } } : {}),
      ...(x.diffText !== undefined ? { diff_text: x.diffText } : {}),
      ...(x.atMs !== undefined ? { at_ms: x.atMs } : {}),
      ...(x.health !== undefined ? { health: x.health } : {}),
    })),
    ...(r.summary ? { summary: r.summary } : {}),
    ...(r.warnings ? { warnings: r.warnings } : {}),
    ...(r.stderr ? { stderr: r.stderr } : {}),
  };
}
