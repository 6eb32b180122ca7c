import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/project.js";

// docs/getting-started.md, run: every `$ command` of its transcripts in
// order, each command's output compared with the lines the page shows
// (the build time aside), so the page's commands, outputs and line
// references (components/app.ts:27:5) stay true. `npm install` is what
// test/e2e/fresh-machine.test.ts runs for real; here it is the two links
// it would make (depc, @types/node), which is fast and works offline.

const page = readFileSync(join(repoRoot, "docs/getting-started.md"), "utf8");
const version = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version as string;

interface Step {
  readonly command: string;
  readonly output: string;
}

/** Every `$ ` line of the page's plain code blocks, with the lines after it up to the next. */
function transcript(): Step[] {
  const steps: Step[] = [];
  for (const block of page.matchAll(/^```\n([\s\S]*?)^```$/gm)) {
    const lines = block[1]!.split("\n");
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]!.startsWith("$ ")) continue;
      const output: string[] = [];
      for (let j = i + 1; j < lines.length && !lines[j]!.startsWith("$ "); j++) output.push(lines[j]!);
      while (output.at(-1) === "") output.pop();
      steps.push({ command: lines[i]!.slice(2), output: output.map((l) => `${l}\n`).join("") });
    }
  }
  return steps;
}

const parent = mkdtempSync(join(tmpdir(), "depc-docs-"));
const deployed = "/tmp/depc-my-deploy"; // where the page's dev environment deploys
const bin = join(repoRoot, "bin", "depc.js");

beforeAll(() => rmSync(deployed, { recursive: true, force: true }));
afterAll(() => {
  rmSync(parent, { recursive: true, force: true });
  rmSync(deployed, { recursive: true, force: true });
});

const normalize = (text: string) => text.replace(/ in \d+\.\d\ds\b/g, " in N.NNs");

describe("docs/getting-started.md", () => {
  it("its transcripts are what the commands print, in order", () => {
    const steps = transcript();
    expect(steps.map((s) => s.command)).toEqual([
      "npx depc init my-deploy",
      "cd my-deploy && npm install",
      "npx depc check env/dev",
      "npx depc build env/dev",
      "npx depc inspect env/dev",
      "sh build/dev/localhost.sh --check",
      "sh build/dev/localhost.sh",
      "sh build/dev/localhost.sh --check",
    ]);
    let cwd = parent;
    const env = { ...process.env, NO_COLOR: "1", DEPC_STATE_DIR: join(parent, "state") };
    for (const step of steps) {
      let r: { status: number | null; stdout: string; stderr: string };
      if (step.command === "cd my-deploy && npm install") {
        cwd = join(cwd, "my-deploy");
        mkdirSync(join(cwd, "node_modules", "@types"), { recursive: true });
        symlinkSync(repoRoot, join(cwd, "node_modules", "depc"));
        symlinkSync(join(repoRoot, "node_modules", "@types", "node"), join(cwd, "node_modules", "@types", "node"));
        r = { status: 0, stdout: "", stderr: "" };
      } else if (step.command.startsWith("npx depc ")) {
        r = spawnSync(process.execPath, [bin, ...step.command.slice("npx depc ".length).split(" ")], { cwd, env, encoding: "utf8" });
      } else if (step.command.startsWith("sh build/")) {
        r = spawnSync("sh", step.command.slice(3).split(" "), { cwd, env, encoding: "utf8" });
      } else {
        throw new Error(`the page runs a command this test does not know: ${step.command}`);
      }
      expect(r.stderr, step.command).toBe("");
      expect(normalize(r.stdout), step.command).toBe(normalize(step.output.replace("vendor/depc-0.1.0.tgz", `vendor/depc-${version}.tgz`)));
      // --check exits 2 while changes are pending.
      expect(r.status, step.command).toBe(step.output.includes("would change  ") ? 2 : 0);
    }
  });

  it("section 5: the env/prod.ts it shows builds the bundles it names", () => {
    const project = join(parent, "my-deploy");
    expect(existsSync(join(project, "env/dev.ts")), "runs after the transcript").toBe(true);
    const section = page.slice(page.indexOf("## 5. Add real hosts"));
    const prod = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    writeFileSync(join(project, "env/prod.ts"), prod);
    const r = spawnSync(process.execPath, [bin, "build", "env/prod"], { cwd: project, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    for (const bundle of ["build/prod/app1.example.com.sh", "build/prod/app2.example.com.sh"]) {
      expect(section).toContain(bundle);
      expect(existsSync(join(project, bundle)), bundle).toBe(true);
    }
  });
});
