import { emitEnvironment, type CompileResult } from "../../compiler/build.js";
import { formatDiagnostics } from "../../compiler/diagnostics/format.js";
import { modelOf } from "../../compiler/evaluate/evaluate.js";
import type { Environment } from "../../model/environment.js";

/**
 * Compiles an `environment(...)` value made in the test itself, skipping
 * the type-check (fast; for runtime behaviour tests). Throws on diagnostics.
 */
export function compileValue(env: Environment, name = "test"): CompileResult {
  const model = modelOf(env, { defaultName: name });
  const result = model.ok
    ? emitEnvironment(model.environment, { projectRoot: "/", sourcesDigest: `sha256:${"0".repeat(64)}` })
    : { ok: false, diagnostics: model.diagnostics, sources: new Map() };
  if (!result.ok) throw new Error(formatDiagnostics(result.diagnostics, { color: false, cwd: "/" }));
  return result;
}
