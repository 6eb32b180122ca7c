import { originalPositionFor, TraceMap } from "@jridgewell/trace-mapping";
import type { Location } from "../diagnostics/diagnostic.js";
import type { TranspiledModule } from "../load/transpile.js";
import type { RawSite } from "../../model/private/site.js";

/** Maps engine positions in transpiled modules back to the user's TypeScript. */
export class SiteMapper {
  private readonly maps = new Map<string, TraceMap>();
  private readonly lines = new Map<string, string[]>();

  constructor(
    private readonly modules: ReadonlyMap<string, TranspiledModule>,
    private readonly sources: ReadonlyMap<string, string>,
  ) {}

  /** The first frame in a user module, mapped to its TypeScript position. */
  locate(sites: readonly RawSite[] | undefined): Location | undefined {
    for (const site of sites ?? []) {
      if (!this.modules.has(site.file)) continue;
      return this.map(site);
    }
    return undefined;
  }

  private map(site: RawSite): Location {
    // A compiler marker is in TypeScript coordinates already.
    if (site.length !== undefined) return { file: site.file, line: site.line, column: site.column, length: site.length };
    const original = originalPositionFor(this.traceMap(site.file), { line: site.line, column: site.column - 1 });
    if (original.line === null) return { file: site.file, line: site.line, column: site.column };
    return this.callee({ file: site.file, line: original.line, column: original.column + 1 });
  }

  /**
   * The engine places a call at its `(` (or at `<` of explicit type
   * arguments), and a method call at the method's name. Users expect the
   * callee's name underlined: `File(` at `F`, `ctx.provide(` at `provide`.
   */
  private callee(at: Location): Location {
    let lines = this.lines.get(at.file);
    if (lines === undefined) this.lines.set(at.file, (lines = (this.sources.get(at.file) ?? "").split("\n")));
    const text = lines[at.line - 1] ?? "";
    const identifier = /[\w$]/;
    let end = at.column - 1;
    if (identifier.test(text[end] ?? "")) {
      let stop = end;
      while (stop < text.length && identifier.test(text[stop]!)) stop++;
      return { ...at, length: stop - end };
    }
    if (text[end] !== "(" && text[end] !== "<") return at;
    while (end > 0 && /\s/.test(text[end - 1]!)) end--;
    let start = end;
    while (start > 0 && /[\w$.]/.test(text[start - 1]!)) start--;
    if (start === end) return at;
    return { ...at, column: start + 1, length: end - start };
  }

  private traceMap(file: string): TraceMap {
    let map = this.maps.get(file);
    if (map === undefined) {
      map = new TraceMap(this.modules.get(file)!.map);
      this.maps.set(file, map);
    }
    return map;
  }
}
