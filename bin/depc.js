#!/usr/bin/env node
// The depc command. The compiler lives in dist/ (built by `npm install` via
// `prepare`): dist/cli/ is the CLI bundled into a few files (fast to start),
// dist/compiler/cli.js the same code as separate modules (a build without the bundler).
import { existsSync, readFileSync } from "node:fs";
import module from "node:module";

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === "--version") {
  // Loads nothing else: the version is all it prints.
  process.stdout.write(`${JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version}\n`);
} else {
  // Node >= 22.1 keeps compiled code between runs (in the system's temp dir).
  module.enableCompileCache?.();
  const bundled = new URL("../dist/cli/depc.js", import.meta.url);
  const { main } = await import(existsSync(bundled) ? bundled.href : "../dist/compiler/cli.js");
  const code = await main(argv);
  // Everything is done when main() resolves: exit now rather than wait for
  // Node's teardown (and for a ControlMaster to let go of ssh's pipes),
  // once what was written to stdout and stderr has gone out.
  let pending = 2;
  const done = () => --pending === 0 && process.exit(code);
  process.stdout.write("", done);
  process.stderr.write("", done);
}
