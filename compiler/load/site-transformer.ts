import type * as TS from "typescript";

/**
 * A transformer for the user's modules: every call of a function imported
 * from "depc" (`File(...)`, `d.File(...)`) gets one more argument, a marker
 * holding its own source position: `File(options, {[Symbol.for("depc.site")]:
 * [file, line, column, length]})`. Resources then know where they were
 * declared without walking the stack — which costs the engine time
 * proportional to the size of the calling function, so a model declaring
 * thousands of resources in one expression would take quadratic time.
 * Only depc's own factories receive the marker, and they ignore a missing one.
 */
export function siteTransformer(ts: typeof TS, fileName: string): TS.TransformerFactory<TS.SourceFile> {
  return (context) => (source) => {
    const named = new Set<string>();
    const namespaces = new Set<string>();
    for (const statement of source.statements) {
      if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
      if (statement.moduleSpecifier.text !== "depc" || statement.importClause?.isTypeOnly) continue;
      const bindings = statement.importClause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) if (!element.isTypeOnly) named.add(element.name.text);
      } else if (bindings && ts.isNamespaceImport(bindings)) {
        namespaces.add(bindings.name.text);
      }
    }
    if (named.size === 0 && namespaces.size === 0) return source;
    const f = context.factory;
    const isDepcCallee = (callee: TS.Expression) =>
      (ts.isIdentifier(callee) && named.has(callee.text)) ||
      (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && namespaces.has(callee.expression.text));
    const visit = (node: TS.Node): TS.Node => {
      const original = node;
      const visited = ts.visitEachChild(node, visit, context);
      if (!ts.isCallExpression(original) || original.questionDotToken || !isDepcCallee(original.expression)) return visited;
      const callee = ts.isPropertyAccessExpression(original.expression) ? original.expression.name : original.expression;
      const start = callee.getStart(source);
      const { line, character } = source.getLineAndCharacterOfPosition(start);
      const marker = f.createObjectLiteralExpression([
        f.createPropertyAssignment(
          f.createComputedPropertyName(f.createCallExpression(f.createPropertyAccessExpression(f.createIdentifier("Symbol"), "for"), undefined, [f.createStringLiteral("depc.site")])),
          f.createArrayLiteralExpression([
            f.createStringLiteral(fileName),
            f.createNumericLiteral(line + 1),
            f.createNumericLiteral(character + 1),
            f.createNumericLiteral(callee.getEnd() - start),
          ]),
        ),
      ]);
      const call = visited as TS.CallExpression;
      return f.updateCallExpression(call, call.expression, call.typeArguments, [...call.arguments, marker]);
    };
    return ts.visitNode(source, visit) as TS.SourceFile;
  };
}
