// `depc status <env> --store STORE`: where the pulling hosts of an environment
// are. Reads the store only (latest, its manifest, every host's report);
// writes nothing, verifies no signature (it trusts nothing it shows: reports
// are unauthenticated, and the manifest only lists the hosts).
import { LATEST_PATH, LayoutError, manifestPath, parseLatest, parseManifest, parseReport, reportPath, type HostReport, type PublishedManifest } from "../publish/layout.js";
import type { Store } from "../publish/store.js";

/** One host of the manifest and what its report says. */
export interface HostStatus {
  readonly host: string;
  /** Its report, undefined when it has none (never reported) or an unreadable one (`problem`). */
  readonly report?: HostReport;
  /** Why its report could not be read (one line, printable ASCII). */
  readonly problem?: string;
  /** Whether it has applied the latest serial. */
  readonly current: boolean;
}

export interface StoreStatus {
  readonly store: string;
  readonly manifest: PublishedManifest;
  readonly hosts: readonly HostStatus[];
}

/** The store holds something else than status can read; one line, without `depc: status: `. */
export class StatusError extends Error {
  override readonly name = "StatusError";
}

/** Reports are fetched this many at a time: thousands of hosts, one store. */
const PARALLEL_READS = 16;

const ascii = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");

/**
 * Reads latest, its manifest and every host's report. `environment` (when
 * given) must be the manifest's: a store belongs to one environment.
 */
export async function readStatus(store: Store, environment: string | undefined): Promise<StoreStatus> {
  const latestBytes = await store.get(LATEST_PATH);
  if (latestBytes === undefined) throw new StatusError(`the store ${store.describe} has no ${LATEST_PATH}: nothing was published there`);
  let manifest: PublishedManifest;
  let serial: number;
  try {
    serial = parseLatest(ascii(latestBytes));
    const path = manifestPath(serial);
    const text = await store.get(path);
    if (text === undefined) throw new StatusError(`the store ${store.describe} has no ${path}, which ${LATEST_PATH} names`);
    manifest = parseManifest(ascii(text));
    if (manifest.serial !== serial) throw new StatusError(`${path} in the store ${store.describe} says serial ${manifest.serial}`);
  } catch (error) {
    if (error instanceof LayoutError) throw new StatusError(`the store ${store.describe}: ${error.message}`);
    throw error;
  }
  if (environment !== undefined && manifest.environment !== environment) {
    throw new StatusError(`the store ${store.describe} holds environment ${manifest.environment}, not ${environment}`);
  }
  const hosts: HostStatus[] = new Array(manifest.hosts.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < manifest.hosts.length; i = next++) hosts[i] = await hostStatus(store, manifest.hosts[i]!.name, serial);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, manifest.hosts.length) }, worker));
  return { store: store.describe, manifest, hosts };
}

async function hostStatus(store: Store, host: string, serial: number): Promise<HostStatus> {
  const bytes = await store.get(reportPath(host));
  if (bytes === undefined) return { host, current: false };
  const read = readReport(ascii(bytes));
  if (read.problem !== undefined) return { host, problem: read.problem, current: false };
  if (read.report.host !== host) return { host, problem: `report names host ${read.report.host}`, current: false };
  return { host, report: read.report, current: read.report.serial >= serial };
}

/** Every byte that is not printable ASCII, spelled `\xNN`: a report's message is a host's free text. */
export function escapeMessage(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * A report as the layout reads it, except its message: a host's free text,
 * which status shows whatever it holds (escaped), rather than call the whole
 * report unreadable for one stray byte. `text` is the bytes as latin1.
 */
export function readReport(text: string): { report: HostReport; problem?: undefined } | { problem: string; report?: undefined } {
  const lines = text.split("\n");
  const at = lines.findIndex((line, i) => i > 0 && (line === "message" || line.startsWith("message ")));
  const message = at < 0 ? "" : lines[at]!.slice("message ".length);
  if (at >= 0) lines[at] = "message ";
  try {
    const report = parseReport(lines.join("\n"));
    // As many characters as the layout allows; a longer one is cut (…), not refused.
    const shown = escapeMessage(message.slice(0, 200)) + (message.length > 200 ? "…" : "");
    return { report: { ...report, message: shown } };
  } catch (error) {
    if (error instanceof LayoutError) return { problem: escapeMessage(error.message) };
    throw error;
  }
}

// ---- text ----

/** `5 minutes ago`, `in 2 hours` (a host's clock ahead), `just now`. */
export function relativeTime(seconds: number, now: number): string {
  const delta = Math.round(now - seconds);
  const ahead = delta < 0;
  const d = Math.abs(delta);
  if (d < 5) return "just now";
  const [n, unit] =
    d < 60 ? [d, "second"] : d < 3600 ? [Math.floor(d / 60), "minute"] : d < 86400 ? [Math.floor(d / 3600), "hour"] : [Math.floor(d / 86400), "day"];
  const amount = `${n} ${unit}${n === 1 ? "" : "s"}`;
  return ahead ? `in ${amount}` : `${amount} ago`;
}

/** Epoch seconds as ISO 8601 in UTC, to the second: `2026-12-01T20:39:00Z`. */
export function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function behind(status: StoreStatus): string[] {
  return status.hosts.filter((h) => !h.current).map((h) => h.host);
}

/** `N of M hosts at serial S; behind: a, b` (no `; behind` when none is). */
export function summaryLine(status: StoreStatus): string {
  const late = behind(status);
  const total = status.hosts.length;
  const at = `${total - late.length} of ${total} host${total === 1 ? "" : "s"} at serial ${status.manifest.serial}`;
  return late.length === 0 ? at : `${at}; behind: ${late.join(", ")}`;
}

/**
 * The text `depc status` prints: a head line, a table (host, serial applied,
 * result, when, message) and the summary line. Every field from a report is
 * checked by the layout (names, numbers, result words) or escaped (message).
 */
export function formatStatus(status: StoreStatus, now: number): string {
  const m = status.manifest;
  const head =
    `${m.environment} in ${status.store}: serial ${m.serial}, published ${relativeTime(m.published, now)} (${isoTime(m.published)}), ` +
    `${m.expires > now ? "expires" : "expired"} ${relativeTime(m.expires, now)} (${isoTime(m.expires)})`;
  const rows = status.hosts.map((h) => {
    const r = h.report;
    if (r === undefined) return [h.host, "-", h.problem === undefined ? "never reported" : "unreadable report", "-", h.problem ?? ""];
    const result = r.attempted !== 0 && r.attempted !== r.serial ? `${r.result} (serial ${r.attempted})` : r.result;
    return [h.host, r.serial === 0 ? "none" : String(r.serial), result, `${relativeTime(r.at, now)} (${isoTime(r.at)})`, r.message];
  });
  const table = [["host", "serial", "result", "when", "message"], ...rows];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const lines = table.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd(),
  );
  return `${head}\n\n${lines.join("\n")}\n\n${summaryLine(status)}\n`;
}

/** `--json`: the same facts for tools; times in epoch seconds and ISO 8601. */
export function statusJson(status: StoreStatus, now: number): object {
  const m = status.manifest;
  return {
    store: status.store,
    environment: m.environment,
    serial: m.serial,
    published: m.published,
    expires: m.expires,
    now,
    hosts: status.hosts.map((h) => {
      const r = h.report;
      if (r === undefined) return { host: h.host, current: false, reported: false, ...(h.problem !== undefined ? { problem: h.problem } : {}) };
      return {
        host: h.host,
        current: h.current,
        reported: true,
        serial: r.serial,
        digest: r.digest ?? null,
        result: r.result,
        attempted: r.attempted,
        at: r.at,
        atIso: isoTime(r.at),
        message: r.message,
      };
    }),
    atSerial: status.hosts.length - behind(status).length,
    behind: behind(status),
  };
}
