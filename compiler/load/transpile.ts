import { createRequire } from "node:module";
import type * as TS from "typescript";

// Loaded as CommonJS: importing the 9 MB typescript.js from ESM makes Node
// lex all of it for named exports first, which costs about half a second.
const ts = createRequire(import.meta.url)("typescript") as typeof TS;
import { siteTransformer } from "./site-transformer.js";

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
    transformers: { before: [siteTransformer(ts, fileName)] },
  });
  return {
    js: out.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, "\n"),
    map: out.sourceMapText ?? "",
  };
}
