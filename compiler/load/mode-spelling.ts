import { dirname } from "node:path";
import type * as TS from "typescript";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";

/**
 * Finds modes written in decimal: `mode: 644` is the number 644, which is
 * 0o1204 (sticky bit, `-w----r--`), a valid mode that nobody means. The
 * value cannot tell 644 from 0o644 (0o644 is 420, whose digits look octal
 * too), so the check reads the spelling: a property typed as depc's `Mode`
 * whose value is a decimal literal other than 0. Octal (`0o644`), hex and
 * strings (`"0644"`) are what people mean.
 */
export function decimalModes(ts: typeof TS, program: TS.Program, entry: string, userFiles: ReadonlySet<string>): Diagnostic[] {
  const resolved = ts.resolveModuleName("depc", entry, program.getCompilerOptions(), ts.sys).resolvedModule;
  if (resolved === undefined) return [];
  // depc's own declarations: the directory its entry point resolved to.
  const depcDir = `${dirname(resolved.resolvedFileName)}/`;
  const checker = program.getTypeChecker();
  const isDepcMode = (property: TS.Symbol): boolean =>
    (property.declarations ?? []).some((declaration) => {
      if (!ts.isPropertySignature(declaration) || declaration.type === undefined || !ts.isTypeReferenceNode(declaration.type)) return false;
      let symbol = checker.getSymbolAtLocation(declaration.type.typeName);
      if (symbol !== undefined && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      return symbol?.name === "Mode" && (symbol.declarations ?? []).some((d) => d.getSourceFile().fileName.startsWith(depcDir));
    });
  const typedAsMode = (literal: TS.ObjectLiteralExpression): boolean => {
    const type = checker.getContextualType(literal);
    if (type === undefined) return false;
    return (type.isUnion() ? type.types : [type]).some((t) => {
      const property = checker.getPropertyOfType(t, "mode");
      return property !== undefined && isDepcMode(property);
    });
  };
  const found: Diagnostic[] = [];
  for (const source of program.getSourceFiles()) {
    if (!userFiles.has(source.fileName)) continue;
    const visit = (node: TS.Node): void => {
      if (
        ts.isPropertyAssignment(node) &&
        (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)) &&
        node.name.text === "mode" &&
        ts.isNumericLiteral(node.initializer) &&
        /^[1-9][0-9_]*$/.test(node.initializer.getText(source)) &&
        ts.isObjectLiteralExpression(node.parent) &&
        typedAsMode(node.parent)
      ) {
        const text = node.initializer.getText(source).replace(/_/g, "");
        const value = Number(text);
        const start = node.initializer.getStart(source);
        const { line, character } = source.getLineAndCharacterOfPosition(start);
        found.push(
          diagnostic(
            "modeInDecimal",
            { mode: text, octal: `0o${value.toString(8)}`, fix: /^[0-7]+$/.test(text) ? `0o${text}` : `0o${value.toString(8)}` },
            { file: source.fileName, line: line + 1, column: character + 1, length: node.initializer.getEnd() - start },
          ),
        );
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}
