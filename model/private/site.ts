/**
 * Where a model object was declared, as the JavaScript engine sees it:
 * a frame of the transpiled user module. The compiler maps it back to the
 * user's TypeScript source through the transpiler's source map.
 */
export interface RawSite {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Set when the position is the user's TypeScript already (from the compiler's marker). */
  readonly length?: number;
}

const MARKER = Symbol.for("depc.site");

/**
 * Where a depc function was called from: the position the compiler put
 * into the call as a last argument (see compiler/load/site-transformer.ts),
 * or, without one (a model evaluated some other way), the call stack.
 */
export function declarationSites(marker: unknown): RawSite[] {
  const site = typeof marker === "object" && marker !== null ? (marker as Record<symbol, unknown>)[MARKER] : undefined;
  if (Array.isArray(site) && site.length === 4) {
    const [file, line, column, length] = site as [string, number, number, number];
    return [{ file, line, column, length }];
  }
  return captureSites();
}

/**
 * The call stack at the moment a model object is created, innermost first,
 * without frames of depc itself. The compiler picks the first frame that
 * belongs to a user source file, so a resource made by a user's helper
 * function points at the helper.
 */
export function captureSites(): RawSite[] {
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  try {
    // The first user frame is a few frames above (factory, defineResource);
    // materializing more call sites costs time on every resource.
    Error.stackTraceLimit = 12;
    Error.prepareStackTrace = (_error, frames) => frames;
    Error.captureStackTrace(holder, captureSites);
    const frames = holder.stack ?? [];
    const sites: RawSite[] = [];
    for (const frame of frames) {
      const file = frame.getFileName();
      const line = frame.getLineNumber();
      const column = frame.getColumnNumber();
      if (file === null || file === undefined || line === null || column === null) continue;
      if (file.startsWith("node:") || file.startsWith(STDLIB_DIR)) continue;
      sites.push({ file, line, column });
    }
    return sites;
  } finally {
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
  }
}

const STDLIB_DIR = new URL("..", import.meta.url).pathname;
