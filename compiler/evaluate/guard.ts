import vm from "node:vm";
import { diagnostic, type Diagnostic, type Location } from "../diagnostics/diagnostic.js";

/**
 * Runs the model's evaluation so that the model cannot end, crash or hang
 * depc. Evaluation is synchronous, so it can be guarded in this process at
 * no measurable cost (a worker or child process would pay for loading the
 * compiler twice on every build):
 *
 * - a time limit: the engine stops the evaluation after `timeoutMs` (vm's
 *   watchdog; a `finally` in the model does not run, so shared state is
 *   restored here);
 * - `process.exit()` throws instead of exiting, and is reported even when
 *   the model catches that;
 * - timers the model starts are recorded and cleared when evaluation ends:
 *   they could never run in the build, only crash depc after it or keep it
 *   alive. A pending one that keeps the process alive is an error; an
 *   unref'd one (a library's housekeeping) is cleared silently;
 * - promise jobs the model queued run once, right after, with Node's
 *   handlers for unhandled rejections and uncaught exceptions replaced:
 *   what fails there is a diagnostic, not a stack trace.
 *
 * Not covered: a model blocking in native code (a synchronous child
 * process), and promise jobs that loop forever after evaluation.
 */
export interface GuardOptions {
  readonly timeoutMs: number;
  /** Where a thrown value was thrown, in the user's sources. */
  readonly locate: (thrown: unknown) => Location | undefined;
}

export interface GuardResult<T> {
  /** Undefined when evaluation was stopped at the time limit. */
  readonly value?: T;
  readonly diagnostics: readonly Diagnostic[];
}

/** What `process.exit()` throws while a model is evaluated. */
export class ModelExit extends Error {
  /** Set once a diagnostic says so: the guard then does not repeat it. */
  reported = false;
  constructor(readonly code: unknown) {
    super(`process.exit(${code === undefined ? "" : String(code)})`);
    this.name = "ModelExit";
  }
}

export const isModelExit = (value: unknown): value is ModelExit => value instanceof ModelExit;

export function modelExitDiagnostic(exit: ModelExit, at: Location | undefined): Diagnostic {
  exit.reported = true;
  return diagnostic("modelExited", { call: exit.message }, at);
}

type TimerKind = "setTimeout" | "setInterval" | "setImmediate";
interface Started {
  readonly kind: TimerKind;
  readonly handle: { hasRef(): boolean; _destroyed?: boolean };
  /** Made where the model called the function: its stack locates the call. */
  readonly site: Error;
  /** Started while the model's code ran synchronously (then it is surely the model's). */
  readonly inBody: boolean;
}

const RUN = Symbol.for("depc.guarded-evaluation");
// The script only calls back: the watchdog times whatever it runs.
const script = new vm.Script(`globalThis[Symbol.for("depc.guarded-evaluation")]()`, { filename: "depc:evaluation" });
const SCOPE = Symbol.for("depc.scope");

export async function guardEvaluation<T>(body: () => T, options: GuardOptions): Promise<GuardResult<T>> {
  const diagnostics: Diagnostic[] = [];
  const exits: ModelExit[] = [];
  const started: Started[] = [];
  let inBody = true;
  const holder = globalThis as unknown as Record<symbol, unknown> & Record<TimerKind, unknown>;
  const saved = {
    exit: process.exit,
    setTimeout: globalThis.setTimeout,
    setInterval: globalThis.setInterval,
    setImmediate: globalThis.setImmediate,
    scope: holder[SCOPE],
    rejection: process.rawListeners("unhandledRejection"),
    exception: process.rawListeners("uncaughtException"),
  };
  const asyncFailure = (thrown: unknown) => {
    const message = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
    diagnostics.push(diagnostic("asyncFailure", { message }, options.locate(thrown)));
  };

  process.exit = function exit(code?: unknown): never {
    const thrown = new ModelExit(code);
    exits.push(thrown);
    throw thrown;
  } as typeof process.exit;
  for (const kind of ["setTimeout", "setInterval", "setImmediate"] as const) {
    const original = saved[kind] as (...args: unknown[]) => Started["handle"];
    const wrapped = function (this: unknown, ...args: unknown[]) {
      const site = new Error(kind);
      const handle = original.apply(this, args);
      started.push({ kind, handle, site, inBody });
      return handle;
    };
    // util.promisify(setTimeout) and friends keep working.
    for (const key of Object.getOwnPropertySymbols(original)) (wrapped as unknown as Record<symbol, unknown>)[key] = (original as unknown as Record<symbol, unknown>)[key];
    holder[kind] = wrapped;
  }
  process.removeAllListeners("unhandledRejection").removeAllListeners("uncaughtException");
  process.on("unhandledRejection", asyncFailure).on("uncaughtException", asyncFailure);

  const clearTimers = () => {
    for (const timer of started.splice(0)) {
      if (timer.handle._destroyed === true) continue;
      // While promise jobs run, whoever else shares the process (a test runner) may start timers too.
      const at = options.locate(timer.site);
      if (!timer.inBody && at === undefined) continue;
      const keepsAlive = timer.handle.hasRef();
      if (timer.kind === "setImmediate") clearImmediate(timer.handle as NodeJS.Immediate);
      else clearTimeout(timer.handle as NodeJS.Timeout);
      if (keepsAlive) diagnostics.push(diagnostic("timerLeft", { kind: timer.kind }, at));
    }
  };

  let value: T | undefined;
  try {
    holder[RUN] = body;
    try {
      value = script.runInThisContext({ timeout: options.timeoutMs }) as T;
    } catch (error) {
      if ((error as { code?: unknown })?.code !== "ERR_SCRIPT_EXECUTION_TIMEOUT") throw error;
      diagnostics.push(diagnostic("evaluationTimedOut", { seconds: String(options.timeoutMs / 1000) }));
      holder[SCOPE] = saved.scope;
    } finally {
      delete holder[RUN];
      inBody = false;
    }
    clearTimers();
    // Promise jobs the model queued run now; Node reports unhandled rejections after them.
    await new Promise((resolve) => saved.setImmediate(resolve));
    clearTimers();
  } finally {
    process.exit = saved.exit;
    holder.setTimeout = saved.setTimeout;
    holder.setInterval = saved.setInterval;
    holder.setImmediate = saved.setImmediate;
    process.off("unhandledRejection", asyncFailure).off("uncaughtException", asyncFailure);
    for (const listener of saved.rejection) process.on("unhandledRejection", listener as (...args: unknown[]) => void);
    for (const listener of saved.exception) process.on("uncaughtException", listener as (...args: unknown[]) => void);
  }
  for (const exit of exits) if (!exit.reported) diagnostics.push(modelExitDiagnostic(exit, options.locate(exit)));
  return { ...(value !== undefined ? { value } : {}), diagnostics };
}
