// Which kept bundle `depc rollback` runs on a host.
//
// The host keeps the last applied bundles as <state>/bundles/<sha256 hex>.sh
// and appends a line per run to <state>/runs.log. From the log (newest
// last), depc takes the digest (the first 64-hex word) of each line that is
// not a --check run; the current bundle is the last one applied. Without a
// log, the kept files' modification times order them (`ls -t`). A log line
// may carry more than one digest: the one naming a kept bundle counts.

export type Choice = { ok: true; digest: string; current: string | undefined } | { ok: false; message: string; listing: string[] };

const HEX64 = /[0-9a-f]{64}/;

export function keptDigests(files: readonly string[]): string[] {
  return files.map((f) => /^([0-9a-f]{64})\.sh$/.exec(f)?.[1]).filter((d): d is string => d !== undefined);
}

/** Digests of applied runs, oldest first, with the log line of each one's last run. */
export function appliedFromLog(log: readonly string[], kept: readonly string[] = []): { order: string[]; lastLine: Map<string, string> } {
  const order: string[] = [];
  const lastLine = new Map<string, string>();
  for (const line of log) {
    // A line may hold other digests (the model's sources): prefer one that names a kept bundle.
    const all = line.match(new RegExp(HEX64.source, "g")) ?? [];
    const digest = all.find((d) => kept.includes(d)) ?? all[0];
    if (digest === undefined || /\bcheck\b/.test(line)) continue;
    order.push(digest);
    lastLine.set(digest, line.trim());
  }
  return { order, lastLine };
}

/** `--to` accepts a digest or a unique prefix of at least 4 hex digits, with or without `sha256:`. */
export function normalizeDigest(to: string): string | undefined {
  const hex = to.trim().toLowerCase().replace(/^sha256:/, "");
  return /^[0-9a-f]{4,64}$/.test(hex) ? hex : undefined;
}

export function chooseRollback(keptFiles: readonly string[], log: readonly string[], to?: string): Choice {
  const kept = keptDigests(keptFiles);
  const { order, lastLine } = appliedFromLog(log, kept);
  const current = order.at(-1) ?? kept[0];
  const listing = kept.map((d) => {
    const marks = [d === current ? "current" : "", (lastLine.get(d) ?? "").replace(/\s+/g, " ")].filter(Boolean).join("  ");
    return `  ${d.slice(0, 12)}  ${marks}`.trimEnd();
  });
  if (kept.length === 0) return { ok: false, message: "no kept bundles on the host (nothing was deployed there with a state directory yet)", listing };
  if (to !== undefined) {
    const want = normalizeDigest(to);
    if (want === undefined) return { ok: false, message: `--to ${JSON.stringify(to)} is not a digest (give at least 4 hex digits of one)`, listing };
    const matches = kept.filter((d) => d.startsWith(want));
    if (matches.length === 1) return { ok: true, digest: matches[0]!, current };
    if (matches.length === 0) return { ok: false, message: `no kept bundle matches ${want}`, listing };
    return { ok: false, message: `${want} matches ${matches.length} kept bundles: give more digits`, listing };
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const d = order[i]!;
    if (d !== current && kept.includes(d)) return { ok: true, digest: d, current };
  }
  const other = kept.find((d) => d !== current);
  if (other !== undefined) return { ok: true, digest: other, current };
  return { ok: false, message: "nothing to roll back to: only the current bundle is kept", listing };
}
