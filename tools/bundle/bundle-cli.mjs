#!/usr/bin/env node
// Part of `npm run build`, after tsc: bundles the CLI (dist/compiler/cli.js and
// all of depc's own modules it imports) into a few files in dist/cli/, so that
// `depc` starts by loading one module instead of some 150 (Node resolves,
// reads and compiles each ESM module on its own: tens of milliseconds).
// Commands stay lazy: each dynamic import() becomes its own chunk, so
// `depc build` does not load the deploy code nor `depc deploy --from` the compiler.
// npm packages stay external (loaded from node_modules as before); TypeScript
// is loaded with require() only when a type-check runs.
// string-width (three copies, under yargs' help renderer) creates an
// Intl.Segmenter when loaded, which loads ICU data: 7 ms and more on every
// start, for text only --help and usage errors render. lazyStringWidth loads it
// on the first call instead (esbuild runs a bundled module at its first require()).
// The bundle lives in dist/cli/: model/private/site.ts skips stack frames under
// the directory above its own module (dist/), which holds the bundle too.
import { rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outdir = join(root, "dist", "cli");
rmSync(outdir, { recursive: true, force: true });
// esbuild is a dev dependency: an install without them (--omit=dev) builds no
// bundle, and bin/depc.js runs dist/compiler/cli.js instead (slower to start).
let build;
try {
  ({ build } = await import("esbuild"));
} catch (error) {
  process.stderr.write(`depc: no CLI bundle (esbuild cannot be loaded: ${error.code ?? error.message}); depc starts from dist/compiler/ instead.\n`);
  process.exit(0);
}
/** @type {import("esbuild").Plugin} */
const lazyStringWidth = {
  name: "lazy-string-width",
  setup(build) {
    build.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData?.real) return undefined;
      const real = await build.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: { real: true } });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: "lazy-string-width" };
    });
    build.onLoad({ filter: /.*/, namespace: "lazy-string-width" }, (args) => ({
      contents: `let real; export default function stringWidth(text, options) { real ??= require(${JSON.stringify(args.path)}).default; return real(text, options); }`,
      loader: "js",
      resolveDir: root,
    }));
  },
};

await build({
  entryPoints: { depc: join(root, "dist", "compiler", "cli.js") },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: ["typescript"],
  outExtension: { ".js": ".js" },
  chunkNames: "chunk-[hash]",
  legalComments: "none",
  logLevel: "warning",
  plugins: [lazyStringWidth],
});
