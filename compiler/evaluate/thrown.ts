import { diagnostic, type Diagnostic, type Location } from "../diagnostics/diagnostic.js";
import { isPullAgentOptionError } from "../../model/pull-agent.js";
import { isSecretMisuse } from "../../model/secret.js";
import { isModelExit, modelExitDiagnostic } from "./guard.js";

/** A value thrown by the model as a diagnostic: a secret turned into a string and a bad PullAgent option have their own codes. */
export function thrownDiagnostic(thrown: unknown, at: Location | undefined): Diagnostic {
  if (isSecretMisuse(thrown)) return diagnostic("secretMisuse", { message: thrown.message }, at);
  if (isPullAgentOptionError(thrown)) return diagnostic(thrown.problem.id, thrown.problem.args, at);
  if (isModelExit(thrown)) return modelExitDiagnostic(thrown, at);
  const message = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
  return diagnostic("evaluationThrew", { message }, at);
}
