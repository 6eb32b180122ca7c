import { createHash } from "node:crypto";
import { relative } from "node:path";
import { sortDiagnostics, type Diagnostic } from "./diagnostics/diagnostic.js";
import { emitBundleParts } from "./emit/bundle.js";
import { manifestHost, type Manifest } from "./emit/manifest.js";
import { evaluate } from "./evaluate/evaluate.js";
import { load, type LoadOptions } from "./load/load.js";
import type { EnvironmentModel } from "./model.js";
import { orderEnvironment } from "./order.js";
import { depcVersion } from "./package-info.js";
import { planRollout } from "./rollout.js";
import { resolveSecrets } from "./secrets/resolve.js";
import { validate } from "./validate.js";

export interface CompileResult {
  readonly ok: boolean;
  /** Every problem found, sorted by location. */
  readonly diagnostics: readonly Diagnostic[];
  /** Source texts by absolute path, for code frames. */
  readonly sources: ReadonlyMap<string, string>;
  readonly environment?: EnvironmentModel;
  /** Bundle text by host name, in model order. */
  readonly bundles?: ReadonlyMap<string, string>;
  /**
   * The same bundles as bytes, in parts to write one after the other
   * (parts are shared between bundles: the runtime section); for writeBuild.
   */
  readonly bundleBytes?: ReadonlyMap<string, readonly Buffer[]>;
  readonly manifest?: Manifest;
  /** Whether the type-check came from the cache. */
  readonly cached?: boolean;
  /** The deployment project's directory (nearest package.json above the environment): `build/` goes there. */
  readonly projectRoot?: string;
}

/** Runs phases 1–5 in memory. Writing the output is the caller's (see output.ts). */
export async function compile(
  environmentPath: string,
  options: LoadOptions & {
    readonly identityFile?: string;
    readonly placeholderSecrets?: boolean;
    /** Time limit of evaluating the model; default $DEPC_EVAL_TIMEOUT seconds, else 60 s. */
    readonly evalTimeoutSeconds?: number;
  },
): Promise<CompileResult> {
  const loaded = await load(environmentPath, options);
  if (!loaded.ok) return { ok: false, diagnostics: sortDiagnostics(loaded.diagnostics), sources: new Map() };
  const model = loaded.model;
  const sources = model.sources;
  const evaluated = await evaluate(model, { timeoutMs: evalTimeoutMs(options.evalTimeoutSeconds) });
  if (!evaluated.ok) return { ok: false, diagnostics: sortDiagnostics(evaluated.diagnostics), sources };
  // Secret references become values here (and only when the model uses any).
  const resolved = await resolveSecrets(evaluated.environment, {
    projectRoot: model.projectRoot,
    cwd: options.cwd,
    identityFile: options.identityFile,
    placeholders: options.placeholderSecrets,
  });
  if (!resolved.ok) return { ok: false, diagnostics: sortDiagnostics(resolved.diagnostics), sources };
  const emitted = emitEnvironment(resolved.environment, {
    projectRoot: model.projectRoot,
    sourcesDigest: digestSources(sources, model.projectRoot),
  });
  return { ...emitted, diagnostics: sortDiagnostics([...loaded.warnings, ...emitted.diagnostics]), sources, cached: model.cached, projectRoot: model.projectRoot };
}

export interface EmitOptions {
  /** Declaration sites in bundles are relative to it. */
  readonly projectRoot: string;
  readonly sourcesDigest: string;
}

/** Phases 3–5 for an evaluated model: validate, order, emit. */
export function emitEnvironment(environment: EnvironmentModel, options: EmitOptions): CompileResult {
  const validated = validate(environment);
  if (validated.diagnostics.length > 0) {
    return { ok: false, diagnostics: sortDiagnostics(validated.diagnostics), sources: new Map(), environment };
  }
  const { sourcesDigest } = options;
  // One relative path per file, not per resource (102,000 resources in a large build).
  const relativeFiles = new Map<string, string>();
  const siteOf = (r: { model: { site?: { file: string; line: number; column: number } } }) => {
    const site = r.model.site;
    if (!site) return "unknown site";
    let file = relativeFiles.get(site.file);
    if (file === undefined) relativeFiles.set(site.file, (file = relative(options.projectRoot, site.file)));
    return `${file}:${site.line}:${site.column}`;
  };
  const rollout = planRollout(environment);
  if (rollout.diagnostics.length > 0) {
    return { ok: false, diagnostics: sortDiagnostics(rollout.diagnostics), sources: new Map(), environment };
  }
  const ordered = orderEnvironment(environment, validated.hosts);
  if (ordered.diagnostics.length > 0) {
    return { ok: false, diagnostics: sortDiagnostics(ordered.diagnostics), sources: new Map(), environment };
  }
  const bundles = new Map<string, string>();
  const bundleBytes = new Map<string, Buffer[]>();
  // Each distinct runtime section (most of a bundle's bytes) is encoded once, not once per host.
  const runtimeBytes = new Map<string, Buffer>();
  const hosts = validated.hosts.map((checked) => {
    const resources = ordered.hosts.get(checked.host.name)!;
    const notifications = ordered.notifications.get(checked.host.name)!;
    const { head, runtime } = emitBundleParts({ environment: environment.name, host: checked.host, resources, notifications, depcVersion, siteOf, removal: environment.removal });
    let shared = runtimeBytes.get(runtime);
    if (shared === undefined) runtimeBytes.set(runtime, (shared = Buffer.from(runtime, "utf8")));
    const parts = [Buffer.from(head, "utf8"), shared];
    bundles.set(checked.host.name, head + runtime);
    bundleBytes.set(checked.host.name, parts);
    const digest = createHash("sha256").update(parts[0]!).update(shared).digest("hex");
    return manifestHost(checked.host, `sha256:${digest}`, resources.length, ordered.after.get(checked.host.name) ?? [], rollout.drains.get(checked.host.name));
  });
  const manifest: Manifest = {
    depc: depcVersion,
    environment: environment.name,
    sources: sourcesDigest,
    hosts,
    waves: ordered.waves,
    ...(rollout.rollout !== undefined ? { rollout: rollout.rollout } : {}),
  };
  return { ok: true, diagnostics: [], sources: new Map(), environment, bundles, bundleBytes, manifest };
}

/** The evaluation time limit in ms: the option, else $DEPC_EVAL_TIMEOUT (seconds), else the default. */
function evalTimeoutMs(seconds: number | undefined): number | undefined {
  const fromEnv = Number(process.env.DEPC_EVAL_TIMEOUT);
  const chosen = seconds ?? (fromEnv > 0 ? fromEnv : undefined);
  return chosen === undefined ? undefined : Math.max(1, Math.ceil(chosen * 1000));
}

/** Digest of the model's own sources by project-relative path: the same on every machine. */
function digestSources(sources: ReadonlyMap<string, string>, projectRoot: string): string {
  const hash = createHash("sha256");
  const files = [...sources.keys()].map((file) => [relative(projectRoot, file), file] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, file] of files) hash.update(name).update("\0").update(sources.get(file)!).update("\0");
  return `sha256:${hash.digest("hex")}`;
}
