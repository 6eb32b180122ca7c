import type { Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import type { MessageId } from "../../compiler/diagnostics/messages.js";
import { HEALTH_DIAGNOSTICS, checkHealth, checkStable } from "../healthcheck/probe.js";
import type { Argument, At } from "../kind.js";

/** A Program's or a Service's `health` and `stableSeconds`, lowered: the stability window and depc_health's words (none: no check). */
export interface ProcessHealth {
  readonly stable: string;
  readonly words: readonly Argument[];
}

export const PROGRAM_HEALTH_DIAGNOSTICS: readonly MessageId[] = [...HEALTH_DIAGNOSTICS, "stableSeconds"];

/** Validates `health` and `stableSeconds` of a process's props; undefined after reporting a problem. */
export function programHealth(owner: string, props: Readonly<Record<string, unknown>>, at: At, report: (d: Diagnostic) => void): ProcessHealth | undefined {
  const stable = checkStable(owner, props.stableSeconds, at, report);
  const health = props.health === undefined ? { words: [] } : checkHealth(owner, props.health, at, report);
  if (stable === undefined || health === undefined) return undefined;
  return { stable, words: health.words };
}
