import ts from "typescript";

/** A user module ready to evaluate: CommonJS JavaScript and its source map. */
export interface TranspiledModule {
  readonly js: string;
  readonly map: string;
}

/**
 * Types are already checked; evaluation only needs JavaScript. Each file is
 * transpiled on its own (isolatedModules), to CommonJS so that depc can
 * load the model synchronously with its own resolver, and with a source map
 * so that every declaration site maps back to the user's line and column.
 */
export function transpile(fileName: string, text: string): TranspiledModule {
  const out = ts.transpileModule(text, {
    fileName,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      sourceMap: true,
      inlineSources: false,
    },
  });
  return {
    js: out.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, "\n"),
    map: out.sourceMapText ?? "",
  };
}
