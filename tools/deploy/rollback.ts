// Which kept bundle `depc rollback` runs on a host.
//
// The runtime keeps the last applied bundles in its state directory
// (runtime/state.sh): <state>/bundles/<sha256 hex>.sh, their order in
// bundles/.order (one digest a line, most recently applied last), and a line
// per run in <state>/runs.log: `TIME DIGEST MODE RESULT ok=N changed=N ...`.
// The current bundle is the last one applied; rollback's default target is
// the one applied before it. The order comes from .order; without it, from
// the apply lines of runs.log; without those, from the kept files'
// modification times (`ls -t`).

export type Choice = { ok: true; digest: string; current: string | undefined } | { ok: false; message: string; listing: string[] };

const HEX64 = /^[0-9a-f]{64}$/;

export function keptDigests(files: readonly string[]): string[] {
  return files.map((f) => /^([0-9a-f]{64})\.sh$/.exec(f)?.[1]).filter((d): d is string => d !== undefined);
}

/** Digests of applied runs, oldest first, and the log line of each one's last run. */
export function appliedFromLog(log: readonly string[], kept: readonly string[] = []): { order: string[]; lastLine: Map<string, string> } {
  const order: string[] = [];
  const lastLine = new Map<string, string>();
  for (const raw of log) {
    const line = raw.trim().replace(/\s+/g, " ");
    const fields = line.split(" ");
    let digest: string | undefined;
    let mode: string | undefined;
    if (HEX64.test(fields[1] ?? "") && /^(apply|check)$/.test(fields[2] ?? "")) {
      // The runtime's format.
      [digest, mode] = [fields[1], fields[2]];
    } else {
      // Anything else: a 64-hex word (one naming a kept bundle first); "check" marks a check run.
      const words = fields.map((f) => f.replace(/^sha256:/, ""));
      digest = words.find((w) => HEX64.test(w) && kept.includes(w)) ?? words.find((w) => HEX64.test(w));
      mode = words.includes("check") ? "check" : "apply";
    }
    if (digest === undefined) continue;
    lastLine.set(digest, line);
    if (mode === "apply") order.push(digest);
  }
  return { order, lastLine };
}

/** `--to` accepts a digest or a unique prefix of at least 4 hex digits, with or without `sha256:`. */
export function normalizeDigest(to: string): string | undefined {
  const hex = to.trim().toLowerCase().replace(/^sha256:/, "");
  return /^[0-9a-f]{4,64}$/.test(hex) ? hex : undefined;
}

/**
 * keptFiles: `ls -t` of bundles/ (newest first); order: bundles/.order
 * (oldest first); log: the tail of runs.log.
 */
export function chooseRollback(keptFiles: readonly string[], log: readonly string[], to?: string, orderFile: readonly string[] = []): Choice {
  const kept = keptDigests(keptFiles);
  const fromLog = appliedFromLog(log, kept);
  const fromOrder = orderFile.map((l) => l.trim()).filter((d) => HEX64.test(d) && kept.includes(d));
  // Most recently applied last.
  const order = fromOrder.length > 0 ? fromOrder : fromLog.order.length > 0 ? fromLog.order : [...kept].reverse();
  const current = order.at(-1) ?? kept[0];
  // Listing: newest first, by the same order, then any other kept file.
  const newestFirst = [...new Set([...[...order].reverse().filter((d) => kept.includes(d)), ...kept])];
  const listing = newestFirst.map((d) => {
    const marks = [d === current ? "current" : "", fromLog.lastLine.get(d) ?? ""].filter(Boolean).join("  ");
    return `  ${d.slice(0, 12)}  ${marks}`.trimEnd();
  });
  if (kept.length === 0) return { ok: false, message: "no kept bundles on the host (nothing was applied there with a state directory yet)", listing };
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
  const other = newestFirst.find((d) => d !== current);
  if (other !== undefined) return { ok: true, digest: other, current };
  return { ok: false, message: "nothing to roll back to: only the current bundle is kept", listing };
}
