import { createRequire } from "node:module";
import type * as TS from "typescript";

// Loaded as CommonJS: importing the 9 MB typescript.js from ESM makes Node
// lex all of it for named exports first, which costs about half a second.
const ts = createRequire(import.meta.url)("typescript") as typeof TS;
import { diagnostic, type Diagnostic, type Note } from "../diagnostics/diagnostic.js";
import { nearest } from "../diagnostics/nearest.js";
import { modelTsconfigOptions } from "./model-options.js";
import { decimalModes } from "./mode-spelling.js";

/**
 * Compiler options for a deployment model. They are depc's, not the
 * project's tsconfig: a model must mean the same thing on every machine,
 * and strict checking is the point of writing it in TypeScript. Node's
 * types come in when the project has them installed (see model-options.ts).
 */
export function modelCompilerOptions(withNodeTypes: boolean): TS.CompilerOptions {
  const { options, errors } = ts.convertCompilerOptionsFromJson({ ...modelTsconfigOptions, types: withNodeTypes ? ["node"] : [] }, "/");
  if (errors.length > 0) throw new Error(`depc: bad model compiler options: ${ts.flattenDiagnosticMessageText(errors[0]!.messageText, " ")}`);
  return options;
}

export interface TypeCheckResult {
  readonly diagnostics: readonly Diagnostic[];
  /** The user's own source files (not declarations, not node_modules): what gets evaluated. */
  readonly userFiles: ReadonlyMap<string, string>;
  /** Every non-library file the check read, with its text: the cache's key. */
  readonly inputs: ReadonlyMap<string, string>;
}

/**
 * Type-checks the model from `entry`. Type references (`types: ["node"]`)
 * resolve from `projectRoot`, as `tsc` run there resolves them.
 *
 * Node's declarations are 2.3 MB, four times TypeScript's own library, and
 * parsing them was most of a check. Most models use nothing of Node, so a
 * project that has them is first checked without them: when that check is
 * clean, it is the answer (Node's declarations only add names and members;
 * a model clean without them and wrong with them would have to clash with
 * them, e.g. declare a global `process` of its own). On any error
 * the model is checked again with Node's declarations, exactly as before,
 * reusing every file already parsed, and that result is reported.
 */
export function typeCheck(entry: string, projectRoot: string, withNodeTypes: boolean): TypeCheckResult {
  const parsed = new Map<string, TS.SourceFile>();
  if (withNodeTypes) {
    const lean = checkWith(entry, projectRoot, false, parsed);
    if (!lean.diagnostics.some((d) => d.severity === "error")) return lean;
  }
  return checkWith(entry, projectRoot, withNodeTypes, parsed);
}

function checkWith(entry: string, projectRoot: string, withNodeTypes: boolean, parsed: Map<string, TS.SourceFile>): TypeCheckResult {
  const options = modelCompilerOptions(withNodeTypes);
  const host = ts.createCompilerHost(options, true);
  host.getCurrentDirectory = () => projectRoot;
  // Both checks parse the same files with the same options: the second takes the first's.
  const getSourceFile = host.getSourceFile;
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const known = parsed.get(fileName);
    if (known !== undefined) return known;
    const source = getSourceFile.call(host, fileName, languageVersion, onError, shouldCreate);
    if (source !== undefined) parsed.set(fileName, source);
    return source;
  };
  const program = ts.createProgram({ rootNames: [entry], options, host });
  const diagnostics: Diagnostic[] = ts.getPreEmitDiagnostics(program).map((d) => explain(d, program) ?? convert(d));
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

/**
 * TypeScript errors a new user meets, said in depc's terms at the user's
 * line, instead of an error about depc's declaration files or advice
 * (tsconfig `types`) that depc does not read.
 */
function explain(d: TS.Diagnostic, program: TS.Program): Diagnostic | undefined {
  const location = locate(d);
  if (location === undefined || d.file === undefined || d.start === undefined) return undefined;
  // TS2591/TS2580: `node:fs` or `process` without Node's declarations.
  if (d.code === 2591 || d.code === 2580) {
    const name = d.file.text.slice(d.start, d.start + (d.length ?? 0)).replace(/^["']|["']$/g, "");
    return diagnostic("nodeTypesMissing", { name: JSON.stringify(name) }, location);
  }
  // TS2345 on Command({...}) without a guard: the union of guards in
  // CommandOptions is reported as "Property 'always' is missing".
  if (d.code === 2345) {
    const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!/parameter of type 'CommandOptions'/.test(text) || !/Property 'always' is missing/.test(text)) return undefined;
    const node = findNode(d.file, d.start);
    const name = node !== undefined && ts.isObjectLiteralExpression(node) ? literalName(node, d.file) : undefined;
    return diagnostic("commandWithoutGuard", { name: name ?? "(unnamed)" }, location);
  }
  // TS2353: a misspelt key (`prot` for `port`) in settings or options; TS
  // itself suggests a name only for some types.
  if (d.code === 2353) {
    const found = findNode(d.file, d.start);
    const property = found !== undefined && ts.isObjectLiteralElementLike(found) ? found : found?.parent;
    if (property === undefined || !ts.isObjectLiteralElementLike(property) || property.name === undefined || !ts.isObjectLiteralExpression(property.parent)) return undefined;
    const type = program.getTypeChecker().getContextualType(property.parent);
    if (type === undefined) return undefined;
    const known = program.getTypeChecker().getPropertiesOfType(type.getNonNullableType()).map((p) => p.name);
    const near = nearest(property.name.getText(d.file), known);
    if (near === undefined) return undefined;
    const converted = convert(d);
    return { ...converted, message: `${converted.message} Did you mean '${near}'?` };
  }
  return undefined;
}

function findNode(file: TS.SourceFile, start: number): TS.Node | undefined {
  let found: TS.Node | undefined;
  const visit = (node: TS.Node): void => {
    if (node.getStart(file) === start) found ??= node;
    if (node.pos <= start && start < node.end) ts.forEachChild(node, visit);
  };
  ts.forEachChild(file, visit);
  return found;
}

/** The `name: ...` of an object literal as a message shows it: quoted, or its source text. */
function literalName(object: TS.ObjectLiteralExpression, file: TS.SourceFile): string | undefined {
  for (const property of object.properties) {
    if (!ts.isPropertyAssignment(property) || !ts.isIdentifier(property.name) || property.name.text !== "name") continue;
    return ts.isStringLiteral(property.initializer) ? JSON.stringify(property.initializer.text) : property.initializer.getText(file);
  }
  return undefined;
}
