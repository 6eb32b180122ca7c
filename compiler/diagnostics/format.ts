import { readFileSync } from "node:fs";
import { relative } from "node:path";
import type { Diagnostic, Location } from "./diagnostic.js";

export interface FormatOptions {
  readonly color: boolean;
  /** Paths are printed relative to this directory. */
  readonly cwd: string;
  /** Source text by absolute path (falls back to reading the file). */
  readonly sources?: ReadonlyMap<string, string>;
}

const ansi = { red: "\x1b[31m", yellow: "\x1b[33m", cyan: "\x1b[36m", grey: "\x1b[90m", reset: "\x1b[0m" };

/**
 * Prints diagnostics the way TypeScript's `--pretty` does:
 * `file:line:col - error CODE: message`, then the source line with the
 * offending span underlined with `~`, then notes with their own locations.
 */
export function formatDiagnostics(list: readonly Diagnostic[], options: FormatOptions): string {
  return list.map((d) => formatOne(d, options)).join("");
}

function formatOne(d: Diagnostic, options: FormatOptions): string {
  const paint = (code: string, text: string) => (options.color ? `${code}${text}${ansi.reset}` : text);
  const where = d.location ? `${paint(ansi.cyan, place(d.location, options.cwd))} - ` : "";
  const severity = paint(d.severity === "error" ? ansi.red : ansi.yellow, d.severity);
  let out = `${where}${severity} ${paint(ansi.grey, d.code)}: ${d.message}\n`;
  if (d.location) out += codeFrame(d.location, options, paint);
  for (const note of d.notes) {
    out += note.location
      ? `  ${paint(ansi.cyan, place(note.location, options.cwd))} - ${note.message}\n` +
        codeFrame(note.location, options, paint, "  ")
      : `  ${note.message}\n`;
  }
  return out;
}

function place(location: Location, cwd: string): string {
  return `${shownPath(cwd, location.file)}:${location.line}:${location.column}`;
}

/**
 * A path as depc prints it: relative to the working directory when that is
 * shorter (`build/dev`, `../mydeploy/env/dev.ts`), else absolute (`/tmp/x`,
 * never `../../../../tmp/x`).
 */
export function shownPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  if (rel === "") return ".";
  return rel.startsWith("..") && rel.length >= path.length ? path : rel;
}

function codeFrame(
  location: Location,
  options: FormatOptions,
  paint: (code: string, text: string) => string,
  indent = "",
): string {
  const text = options.sources?.get(location.file) ?? readOrEmpty(location.file);
  const line = text.split(/\r?\n/)[location.line - 1];
  if (line === undefined) return "";
  const gutter = String(location.line);
  const start = Math.max(0, location.column - 1);
  const length = Math.max(1, Math.min(location.length ?? 1, line.length - start));
  const under = " ".repeat(gutter.length + 1) + line.slice(0, start).replace(/[^\t]/g, " ") + "~".repeat(length);
  return `\n${indent}${paint("\x1b[7m", gutter)} ${line}\n${indent}${paint(ansi.red, under)}\n\n`;
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
