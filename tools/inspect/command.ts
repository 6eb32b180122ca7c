import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { compile, type CompileResult } from "../../compiler/build.js";
import { formatDiagnostics, shownPath } from "../../compiler/diagnostics/format.js";
import type { Io } from "../../compiler/cli.js";
import { analyze, type Analysis } from "./analyze.js";
import { buildGraph, renderDot, renderMermaid } from "./graph.js";
import { inspectView, renderInspect } from "./inspect.js";
import { visible } from "../../compiler/visible.js";

/** The CLI side of `depc inspect` and `depc graph`. */
export interface ModelArgs {
  readonly env: string;
  readonly cache: boolean;
  readonly evalTimeout?: number;
}

/**
 * Compiles the environment and analyzes its model. Diagnostics go to
 * stderr. A model that evaluated but has validation or ordering errors is
 * still described (that is when a picture helps most), with exit code 1.
 */
async function load(args: ModelArgs, io: Io): Promise<{ analysis?: Analysis; code: number }> {
  const result: CompileResult = await compile(args.env, {
    cwd: io.cwd,
    placeholderSecrets: true,
    ...(args.cache ? {} : { refreshCache: true }),
    ...(args.evalTimeout !== undefined ? { evalTimeoutSeconds: args.evalTimeout } : {}),
  });
  const errors = result.diagnostics.filter((d) => d.severity === "error").length;
  if (result.diagnostics.length > 0) {
    io.stderr(formatDiagnostics(result.diagnostics, { color: io.color, cwd: io.cwd, sources: result.sources }));
    if (errors > 0) io.stderr(`\nFound ${errors} error${errors === 1 ? "" : "s"}.\n`);
  }
  const code = errors > 0 ? 1 : 0;
  if (result.environment === undefined) return { code: 1 };
  return { analysis: analyze(result.environment), code };
}

export async function inspectCommand(args: ModelArgs & { readonly json: boolean }, io: Io): Promise<number> {
  const { analysis, code } = await load(args, io);
  if (analysis === undefined) return code;
  const view = inspectView(analysis, io.cwd);
  // Text is for people: paths with escape sequences or bidi controls are shown escaped.
  io.stdout(args.json ? `${JSON.stringify(view, null, 2)}\n` : visible(renderInspect(view)));
  return code;
}

export type GraphFormat = "dot" | "mermaid";

export async function graphCommand(args: ModelArgs & { readonly format: GraphFormat; readonly out?: string | undefined }, io: Io): Promise<number> {
  // yargs has reported a bad --format already (its `choices`), but may still run the handler.
  if (args.format !== "dot" && args.format !== "mermaid") return 1;
  const { analysis, code } = await load(args, io);
  if (analysis === undefined) return code;
  const graph = buildGraph(analysis);
  const text = args.format === "mermaid" ? renderMermaid(graph) : renderDot(graph);
  if (args.out === undefined || args.out === "-") {
    io.stdout(text);
    return code;
  }
  const file = resolve(io.cwd, args.out);
  try {
    mkdirSync(dirname(file), { recursive: true });
    // Written next to its place and renamed: a reader never sees half a graph.
    const temp = `${file}.tmp-${process.pid}`;
    writeFileSync(temp, text);
    renameSync(temp, file);
  } catch (error) {
    io.stderr(`depc: cannot write ${args.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
    return 1;
  }
  io.stdout(`depc: wrote ${shownPath(io.cwd, file)} (${args.format}, ${graph.clusters.length} host${graph.clusters.length === 1 ? "" : "s"}, ${graph.edges.length} edge${graph.edges.length === 1 ? "" : "s"})\n`);
  return code;
}
