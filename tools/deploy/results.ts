// What one host's run produced: its resources (from the bundle's --report,
// completed with the diffs and details of its printed lines), counts and
// timings. These objects are also what `--json` writes.
import type { Cause } from "./classify.js";

export type Mode = "apply" | "check";

export type ResourceStatus = "ok" | "changed" | "would change" | "failed" | RemovalStatus;

/** What happened to something that left the model (runtime/ledger.sh). */
export type RemovalStatus = "removed" | "would remove" | "not removed" | "left" | "kept";

export interface DiffStat {
  readonly added: number;
  readonly removed: number;
  readonly binary?: true;
}

export interface ResourceResult {
  readonly index?: number;
  /** Not a resource of the bundle: something that left the model (its removal). */
  readonly removal?: true;
  readonly kind: string;
  readonly key: string;
  readonly status: ResourceStatus;
  /** What changed ("content", "mode"...), as the bundle reports it. */
  readonly changes: readonly string[];
  /** The text in parentheses of its line: "mode 0600 -> 0644". */
  readonly detail?: string;
  readonly error?: string;
  readonly diff?: DiffStat;
  /** The unified diff, as the bundle printed it (plan; secrets are redacted by the bundle). */
  readonly diffText?: string;
  /** When its line arrived, in ms since this host's run started. */
  readonly atMs?: number;
  /** Its health check, when it ran one (the report's `health`). */
  readonly health?: HealthResult;
}

export interface HealthResult {
  readonly result: string;
  readonly attempts: number;
  readonly seconds: number;
}

/**
 * converged: apply ran to the end. clean / pending: check found nothing / something to change.
 * failed: a resource failed. error: the bundle did not run to the end (ssh, sudo, lock...).
 * skipped: not started because a host it depends on did not converge.
 */
export type HostStatus = "converged" | "clean" | "pending" | "failed" | "error" | "skipped";

export interface Counts {
  readonly resources: number;
  readonly ok: number;
  readonly changed: number;
  readonly wouldChange: number;
  readonly failed: number;
  readonly notRun: number;
  /** Removals of what left the model (0 from an older bundle). */
  readonly removed: number;
  readonly wouldRemove: number;
  readonly notRemoved: number;
  readonly removalFailed: number;
}

export interface HostResult {
  readonly name: string;
  readonly address: string;
  readonly user?: string;
  readonly port?: number;
  readonly digest: string;
  /** Rollback: the kept bundle that ran (`sha256:<hex>`). */
  readonly rolledBackTo?: string;
  readonly status: HostStatus;
  readonly cause?: Cause;
  /** The bundle's exit status, when it ran. */
  readonly exit?: number;
  readonly counts?: Counts;
  readonly resources: readonly ResourceResult[];
  /** ms since the run of depc started; duration of this host's ssh run. */
  readonly startedAtMs?: number;
  readonly durationMs?: number;
  /** The bundle's own summary line. */
  readonly summary?: string;
  /** The bundle's warnings (stderr lines "depc: ENV/HOST: warning: ..."). */
  readonly warnings?: readonly string[];
  /** The last lines of stderr, when the host did not converge. */
  readonly stderr?: string;
}

/** One printed resource line of a bundle, in the runtime's fixed-width format. */
export interface OutputLine {
  readonly status: ResourceStatus;
  /** "file /srv/app.ini (content)": kind, key and detail as printed. */
  readonly text: string;
  readonly atMs: number;
  diff: string[];
}

const STATUS_PREFIX: readonly [string, ResourceStatus][] = [
  ["ok            ", "ok"],
  ["changed       ", "changed"],
  ["would change  ", "would change"],
  ["failed        ", "failed"],
  ["removed       ", "removed"],
  ["would remove  ", "would remove"],
  ["not removed   ", "not removed"],
  ["left          ", "left"],
  ["kept          ", "kept"],
];

/** Collects a bundle's printed lines: resource lines, the diffs under them, the summary. */
export class OutputCollector {
  readonly lines: OutputLine[] = [];
  readonly other: string[] = [];
  summary: string | undefined;
  private readonly started = performance.now();

  /** Returns the parsed resource line, if `line` is one. */
  push(line: string): OutputLine | undefined {
    for (const [prefix, status] of STATUS_PREFIX) {
      if (line.startsWith(prefix)) {
        const parsed: OutputLine = { status, text: line.slice(prefix.length), atMs: Math.round(performance.now() - this.started), diff: [] };
        this.lines.push(parsed);
        return parsed;
      }
    }
    if (/^depc: \S+\/\S+( \(check\))?: \d+ resources?: /.test(line)) {
      this.summary = line;
      return undefined;
    }
    const last = this.lines.at(-1);
    // Everything under a "would change" line is its diff (or the line that stands for one:
    // binary content, a secret's fingerprint); under a "changed" line (should a bundle
    // print diffs on apply), what looks like a unified diff.
    const diffLike = /^(--- |\+\+\+ |@@ |[ +\\-]|Binary content differs|Secret content changed|\(no diff)/.test(line);
    const diffs = last !== undefined && (last.status === "would change" || last.status === "would remove");
    if (last !== undefined && this.summary === undefined && (diffs || (last.status === "changed" && diffLike))) last.diff.push(line);
    else this.other.push(line);
    return undefined;
  }
}

export function diffStat(diff: readonly string[]): DiffStat | undefined {
  if (diff.length === 0) return undefined;
  if (diff.length === 1 && /^(Binary content differs|Secret content removed)/.test(diff[0]!)) return { added: 0, removed: 0, binary: true };
  let added = 0;
  let removed = 0;
  // The first two lines are the "--- PATH" / "+++ PATH (depc)" headers.
  const body = diff[0]?.startsWith("--- ") && diff[1]?.startsWith("+++ ") ? diff.slice(2) : diff;
  for (const line of body) {
    if (line.startsWith("+")) added++;
    else if (line.startsWith("-")) removed++;
  }
  return { added, removed };
}

interface ReportLine {
  index?: number;
  removal?: boolean;
  kind?: string;
  key?: string;
  status?: string;
  changes?: string[];
  error?: string;
  health?: HealthResult;
  summary?: Record<string, unknown>;
}

/**
 * Resources and counts from the report (JSON lines) and the printed lines.
 * Without a report (the run stopped early), from the printed lines alone.
 */
export function collectResources(
  reportLines: readonly string[],
  output: OutputCollector,
  mode: Mode,
  resourceCount: number,
): { resources: ResourceResult[]; counts: Counts | undefined } {
  const parsed: ReportLine[] = [];
  for (const line of reportLines) {
    if (line.trim() === "") continue;
    try {
      parsed.push(JSON.parse(line) as ReportLine);
    } catch {
      /* a report cut short: use what parses */
    }
  }
  const summary = parsed.find((p) => p.summary !== undefined)?.summary;
  const entries = parsed.filter((p) => p.summary === undefined && typeof p.kind === "string" && typeof p.status === "string");
  // Printed lines that are not "ok" pair up, in order, with the report's non-ok entries
  // (a --quiet bundle prints no ok lines).
  const printed = output.lines.filter((l) => l.status !== "ok");
  let next = 0;
  const resources: ResourceResult[] = [];
  if (entries.length > 0) {
    for (const e of entries) {
      const status = e.status as ResourceStatus;
      const line = status !== "ok" && printed[next]?.status === status ? printed[next++] : undefined;
      const r = resource(e.index, e.kind!, e.key!, status, e.changes ?? [], e.error, line, mode);
      const withHealth = e.health !== undefined && typeof e.health === "object" ? { ...r, health: e.health } : r;
      resources.push(e.removal === true ? { removal: true, ...withHealth } : withHealth);
    }
  } else {
    for (const l of output.lines) {
      const { kind, key, detail, error } = splitText(l.text, l.status);
      resources.push(resource(undefined, kind, key, l.status, [], error, { ...l, text: detail === undefined ? "" : `(${detail})` }, mode));
    }
  }
  const num = (v: unknown) => (typeof v === "number" ? v : 0);
  const counts: Counts | undefined = summary
    ? {
        resources: num(summary.resources) || resourceCount,
        ok: num(summary.ok),
        changed: num(summary.changed),
        wouldChange: num(summary.would_change),
        failed: num(summary.failed),
        notRun: num(summary.not_run),
        removed: num(summary.removed),
        wouldRemove: num(summary.would_remove),
        notRemoved: num(summary.not_removed),
        removalFailed: num(summary.removal_failed),
      }
    : resources.length > 0 || output.summary !== undefined
      ? countOf(resources, resourceCount)
      : undefined;
  return { resources, counts };
}

function countOf(resources: readonly ResourceResult[], total: number): Counts {
  const n = (s: ResourceStatus) => resources.filter((r) => r.status === s).length;
  const removals = n("removed") + n("would remove") + n("not removed") + n("left") + n("kept");
  return {
    resources: total,
    ok: n("ok"),
    changed: n("changed"),
    wouldChange: n("would change"),
    failed: n("failed"),
    notRun: Math.max(0, total - (resources.length - removals)),
    removed: n("removed"),
    wouldRemove: n("would remove"),
    notRemoved: n("not removed"),
    removalFailed: 0,
  };
}

function resource(
  index: number | undefined,
  kind: string,
  key: string,
  status: ResourceStatus,
  changes: readonly string[],
  error: string | undefined,
  line: OutputLine | undefined,
  mode: Mode,
): ResourceResult {
  const detail = line ? / ?\(([^()]*)\)$/.exec(line.text)?.[1] : undefined;
  const stat = line ? diffStat(line.diff) : undefined;
  return {
    ...(index !== undefined ? { index } : {}),
    kind,
    key,
    status,
    changes,
    ...(detail !== undefined && status !== "failed" ? { detail } : {}),
    ...(error !== undefined && error !== "" ? { error } : {}),
    ...(stat ? { diff: stat } : {}),
    ...(line && line.diff.length > 0 ? { diffText: line.diff.join("\n") } : {}),
    ...(line ? { atMs: line.atMs } : {}),
  };
}

/** "file /a b (content)" → kind, key, detail; "file /x: reason" for failures. */
function splitText(text: string, status: ResourceStatus): { kind: string; key: string; detail?: string; error?: string } {
  const space = text.indexOf(" ");
  const kind = space < 0 ? text : text.slice(0, space);
  let rest = space < 0 ? "" : text.slice(space + 1);
  if (status === "failed") {
    const colon = rest.indexOf(": ");
    return colon < 0 ? { kind, key: rest } : { kind, key: rest.slice(0, colon), error: rest.slice(colon + 2) };
  }
  const m = / \(([^()]*)\)$/.exec(rest);
  if (m) {
    rest = rest.slice(0, m.index);
    return { kind, key: rest, detail: m[1]! };
  }
  return { kind, key: rest };
}
