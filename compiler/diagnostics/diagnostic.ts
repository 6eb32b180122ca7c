import { visible } from "../visible.js";
import { codeOf, messages, type MessageId } from "./messages.js";

/** A position in a user's source file. Lines and columns are 1-based. */
export interface Location {
  /** Absolute path. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** How many characters to underline; 1 when unknown. */
  readonly length?: number;
}

export interface Note {
  readonly message: string;
  readonly location?: Location;
}

/** A problem in the user's model (or its build), as data. */
export interface Diagnostic {
  readonly severity: "error" | "warning";
  /** `DEPC2001`, or `TS2322` for the type checker's. */
  readonly code: string;
  readonly message: string;
  readonly location?: Location;
  readonly notes: readonly Note[];
}

/** Quotes a user value in a message so that blanks and odd characters (bidi controls too) are visible. */
export function show(value: unknown): string {
  if (typeof value === "string") return visible(JSON.stringify(value));
  if (value === null || value === undefined) return String(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "an array";
  if (value instanceof Promise) return "a Promise (build functions run synchronously: no async, no await)";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

export function diagnostic(
  id: MessageId,
  args: Readonly<Record<string, string | number>>,
  location?: Location,
  notes: readonly Note[] = [],
): Diagnostic {
  const message = messages[id].text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in args ? String(args[name]) : whole,
  );
  return { severity: "error", code: codeOf(id), message, location, notes };
}

/** Stable order for printing: by file, line, column, then code. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  const key = (d: Diagnostic) => [d.location?.file ?? "", d.location?.line ?? 0, d.location?.column ?? 0, d.code] as const;
  return [...list].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) {
      if (ka[i]! < kb[i]!) return -1;
      if (ka[i]! > kb[i]!) return 1;
    }
    return 0;
  });
}
