import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type * as TS from "typescript";
import type { Location } from "../diagnostics/diagnostic.js";

/**
 * Where exactly a setting was set: the `root: ...` inside
 * `environment({ settings: { app: { root: ... } } })` or inside
 * `app.with({ root: ... })`, found from the call's site by parsing its
 * file. Only diagnostics need it, so TypeScript is loaded (and each file
 * parsed) only when one does. Falls back to the call's site.
 */
export function settingLocation(call: Location, path: readonly string[]): Location {
  try {
    const ts = createRequire(import.meta.url)("typescript") as typeof TS;
    const source = parse(ts, call.file);
    const position = source.getPositionOfLineAndCharacter(call.line - 1, call.column - 1);
    let found: TS.CallExpression | undefined;
    const visit = (node: TS.Node): void => {
      if (node.getStart(source) > position || node.end <= position) return;
      if (ts.isCallExpression(node)) found = node; // the innermost call holding the site
      ts.forEachChild(node, visit);
    };
    ts.forEachChild(source, visit);
    let node: TS.Node | undefined = found?.arguments[0];
    for (const name of path) {
      if (node === undefined || !ts.isObjectLiteralExpression(node)) return call;
      const property: TS.ObjectLiteralElementLike | undefined = node.properties.find(
        (p) => p.name !== undefined && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) && p.name.text === name,
      );
      if (property === undefined) return call;
      node = ts.isPropertyAssignment(property) ? property.initializer : property;
      if (name === path[path.length - 1]) {
        const start = property.getStart(source);
        const { line, character } = source.getLineAndCharacterOfPosition(start);
        return { file: call.file, line: line + 1, column: character + 1, length: property.getEnd() - start };
      }
    }
    return call;
  } catch {
    return call;
  }
}

const parsed = new Map<string, TS.SourceFile>();

/** Parsed once per file and text: several diagnostics often point into one environment. */
function parse(ts: typeof TS, file: string): TS.SourceFile {
  const text = readFileSync(file, "utf8");
  let source = parsed.get(file);
  if (source === undefined || source.text !== text) {
    source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    parsed.set(file, source);
  }
  return source;
}
