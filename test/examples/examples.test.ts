import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile, type CompileResult } from "../../compiler/build.js";
import { exampleEnvironments } from "../support/golden.js";
import { repoRoot } from "../support/project.js";
import { Sandbox } from "../support/sandbox.js";
import { availableShells } from "../support/shells.js";

// Every example's bundles, run for real under every shell of the matrix, in
// a sandboxed copy of this machine's filesystem (see support/sandbox.ts).
const unavailable = Sandbox.unavailable();
// Examples that start services are deployed for real by tests of their own
// (django-hello.test.ts, e2e/django.test.ts): a throwaway sandbox would leave their
// daemons behind, and examples/django installs OS packages. examples/pull installs
// a systemd timer, a crontab and age: its agent is tested in test/pull/.
const examples = exampleEnvironments().filter((e) => e.example !== "django-hello" && e.example !== "django" && e.example !== "pull");
if (unavailable !== undefined && process.env.CI === "true") throw new Error(`example runs: sandbox ${unavailable}`);

describe.skipIf(unavailable !== undefined)("examples converge under every shell", () => {
  if (unavailable !== undefined) console.warn(`depc tests: skipping example runs: sandbox ${unavailable}`);
  const shells = availableShells();
  let bundleDir: string;
  const builds = new Map<string, CompileResult>();

  beforeAll(async () => {
    bundleDir = mkdtempSync(join(tmpdir(), "depc-example-bundles-"));
    for (const { path } of examples) {
      const result = await compile(path, { cwd: repoRoot, cacheDir: false });
      expect(result.ok).toBe(true);
      builds.set(path, result);
      for (const [host, text] of result.bundles!) writeFileSync(join(bundleDir, `${result.manifest!.environment}-${host}.sh`), text);
    }
  });
  afterAll(() => rmSync(bundleDir, { recursive: true, force: true }));

  for (const { path } of examples) {
    for (const shell of shells) {
      it(`${path} under ${shell.name}: apply, apply again (0 changed), edit, --check shows the diff`, () => {
        const result = builds.get(path)!;
        for (const host of result.environment!.hosts) {
          const bundle = join(bundleDir, `${result.manifest!.environment}-${host.name}.sh`);
          const sandbox = new Sandbox();
          try {
            const first = sandbox.run(shell, bundle);
            expect(first.stderr, `${host.name}: first apply`).toBe("");
            expect(first.status, `${host.name}: first apply\n${first.stdout}`).toBe(0);
            // Some paths may exist already in the sandbox (it is a copy of this machine).
            expect(first.stdout).toMatch(new RegExp(`: ${host.resources.length} resources: \\d+ changed, \\d+ ok, 0 failed\\n$`));

            const second = sandbox.run(shell, bundle);
            expect(second.status).toBe(0);
            expect(second.stdout).not.toMatch(/^changed/m);
            expect(second.stdout).toMatch(new RegExp(`: ${host.resources.length} resources: 0 changed, ${host.resources.length} ok, 0 failed\\n$`));

            const file = host.resources.find((r) => r.kind === "file")!.props.path as string;
            const edit = sandbox.exec(["/bin/sh", "-c", 'printf "edited by hand\\n" >> "$1"', "edit", file]);
            expect(edit.status).toBe(0);
            const check = sandbox.run(shell, bundle, ["--check"]);
            expect(check.status, check.stdout + check.stderr).toBe(2);
            expect(check.stdout).toContain(`would change  file ${file} (content)\n--- ${file}\n+++ ${file} (depc)\n`);
            expect(check.stdout).toContain("\n-edited by hand\n");
            const after = sandbox.exec(["/bin/sh", "-c", 'tail -n 1 "$1"', "tail", file]);
            expect(after.stdout, "--check must not change the file").toBe("edited by hand\n");
          } finally {
            sandbox.remove();
          }
        }
      }, 60_000);
    }
  }
});
