// What a deploy prints: one line per host per change (prefixed by the host
// name), a progress line on terminals, and the final table.
import { visible } from "../../compiler/visible.js";
import type { HostResult, Mode } from "./results.js";

export interface PrinterIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly color: boolean;
  /** Whether stderr is a terminal that can redraw a progress line. */
  readonly tty: boolean;
  readonly columns?: number;
}

const COLORS: Record<string, string> = {
  changed: "32",
  converged: "32",
  "would change": "33",
  pending: "33",
  failed: "31",
  error: "31",
  skipped: "90",
  warning: "33",
  clean: "32",
};

export class Printer {
  private progressShown = false;
  private progressText = "";

  constructor(
    private readonly io: PrinterIo,
    private readonly hostWidth: number,
  ) {}

  paint(word: string, text = word): string {
    const code = COLORS[word];
    return this.io.color && code ? `\u001b[${code}m${text}\u001b[0m` : text;
  }

  /** `host  status  text`, the status padded so the texts line up. */
  hostLine(host: string, status: string, text: string): void {
    this.out(this.format(host, status, text));
  }

  /**
   * One line. `text` may hold bytes from the host (paths, diffs, stderr):
   * escape sequences, CR and bidi controls in it are shown escaped, never
   * sent to the terminal; `paintAs` colours it after that.
   */
  format(host: string, status: string, text: string, paintAs?: string): string {
    const shown = visible(text);
    return `${host.padEnd(this.hostWidth)}  ${this.paint(status, status.padEnd(12))} ${paintAs === undefined ? shown : this.paint(paintAs, shown)}\n`;
  }

  /** Lines printed as they are (plan's per-host blocks). */
  out(text: string): void {
    this.clearProgress();
    this.io.stdout(text);
    this.redrawProgress();
  }

  err(text: string): void {
    this.clearProgress();
    this.io.stderr(text);
    this.redrawProgress();
  }

  progress(text: string): void {
    if (!this.io.tty) return;
    const width = Math.max(20, (this.io.columns ?? 80) - 1);
    this.progressText = text.length > width ? `${text.slice(0, width - 1)}…` : text;
    this.redrawProgress();
  }

  stopProgress(): void {
    this.clearProgress();
    this.progressText = "";
  }

  private clearProgress(): void {
    if (this.progressShown) {
      this.io.stderr("\r\u001b[K");
      this.progressShown = false;
    }
  }

  private redrawProgress(): void {
    if (!this.io.tty || this.progressText === "") return;
    this.io.stderr(`\r\u001b[K${this.progressText}`);
    this.progressShown = true;
  }

  /** The final table: host, result, ok, changed (would change), failed, duration, and why. */
  table(results: readonly HostResult[], mode: Mode): void {
    const head = ["host", "result", "ok", mode === "check" ? "would change" : "changed", "failed", "time", ""];
    const rows = results.map((r) => {
      const c = r.counts;
      const num = (n: number | undefined) => (c === undefined || n === undefined ? "-" : String(n));
      return [
        r.name,
        r.status,
        num(c?.ok),
        num(mode === "check" ? c?.wouldChange : c?.changed),
        num(c?.failed),
        r.durationMs === undefined ? "-" : `${(r.durationMs / 1000).toFixed(2)}s`,
        visible(r.cause?.message ?? ""),
      ];
    });
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const right = new Set([2, 3, 4, 5]);
    const fmt = (row: string[], paintStatus: boolean) =>
      row
        .map((cell, i) => {
          if (i === row.length - 1) return cell;
          const padded = right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
          return paintStatus && i === 1 ? this.paint(cell, padded) : padded;
        })
        .join("  ")
        .trimEnd();
    let text = `\n${fmt(head, false)}\n`;
    for (const row of rows) text += `${fmt(row, true)}\n`;
    this.out(text);
  }
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)}s`;
