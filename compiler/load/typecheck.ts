import { createRequire } from "node:module";
import type * as TS from "typescript";

// Loaded as CommonJS: importing the 9 MB typescript.js from ESM makes Node
// lex all of it for named exports first, which costs about half a second.
const ts = createRequire(import.meta.url)("typescript") as typeof TS;
import type { Diagnostic, Note } from "../diagnostics/diagnostic.js";
import { decimalModes } from "./mode-spelling.js";

/**
 * Compiler options for a deployment model. They are depc's, not the
 * project's tsconfig: a model must mean the same thing on every machine,
 * and strict checking is the point of writing it in TypeScript.
 */
export const modelCompilerOptions: TS.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.Preserve,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ["lib.es2022.d.ts"],
  types: [],
  noEmit: true,
  skipLibCheck: true,
  allowImportingTsExtensions: true,
  resolveJsonModule: true,
  esModuleInterop: true,
  isolatedModules: true,
  forceConsistentCasingInFileNames: true,
};

export interface TypeCheckResult {
  readonly diagnostics: readonly Diagnostic[];
  /** The user's own source files (not declarations, not node_modules): what gets evaluated. */
  readonly userFiles: ReadonlyMap<string, string>;
  /** Every non-library file the check read, with its text: the cache's key. */
  readonly inputs: ReadonlyMap<string, string>;
}

export function typeCheck(entry: string): TypeCheckResult {
  const host = ts.createCompilerHost(modelCompilerOptions, true);
  const program = ts.createProgram({ rootNames: [entry], options: modelCompilerOptions, host });
  const diagnostics: Diagnostic[] = ts.getPreEmitDiagnostics(program).map(convert);
  const userFiles = new Map<string, string>();
  const inputs = new Map<string, string>();
  for (const source of program.getSourceFiles()) {
    if (program.isSourceFileDefaultLibrary(source)) continue;
    inputs.set(source.fileName, source.text);
    if (!source.isDeclarationFile && !source.fileName.includes("/node_modules/")) {
      userFiles.set(source.fileName, source.text);
    }
  }
  diagnostics.push(...decimalModes(ts, program, entry, new Set(userFiles.keys())));
  return { diagnostics, userFiles, inputs };
}

function convert(d: TS.Diagnostic): Diagnostic {
  return {
    severity: d.category === ts.DiagnosticCategory.Warning ? "warning" : "error",
    code: `TS${d.code}`,
    message: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
    location: locate(d),
    notes: (d.relatedInformation ?? []).map(
      (r): Note => ({ message: ts.flattenDiagnosticMessageText(r.messageText, "\n"), location: locate(r) }),
    ),
  };
}

function locate(d: TS.Diagnostic | TS.DiagnosticRelatedInformation): Diagnostic["location"] {
  if (d.file === undefined || d.start === undefined) return undefined;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  return { file: d.file.fileName, line: line + 1, column: character + 1, length: d.length ?? 1 };
}

