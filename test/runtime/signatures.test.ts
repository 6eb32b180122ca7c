/**
 * The runtime's documented parameters match what the compiler passes, and
 * runtime/README.md matches the runtime files and the emitter: a change
 * to a runtime function's parameters that leaves its header comment or the
 * README behind fails here.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { modelOf } from "../../compiler/evaluate/evaluate.js";
import { positionalArguments, type CheckedResource } from "../../kinds/kind.js";
import { kinds } from "../../kinds/registry.js";
import { markSensitive } from "../../compiler/secrets/sensitive.js";
import { validate } from "../../compiler/validate.js";
import { Buildout, Command, CronJob, Directory, Download, environment, Extract, File, fromDirectory, Group, Logrotate, Package, Program, Service, Supervisor, Symlink, Timer, Tree, User, VirtualEnv } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { runtimeFunctions } from "./bundle.js";
import { arityProblems, documentedSignature, mentionMatches } from "./signatures.js";

const README = readFileSync(join(import.meta.dirname, "..", "..", "runtime", "README.md"), "utf8");
const functions = runtimeFunctions();
/** A Tree's source: two files. */
const treeSource = mkdtempSync(join(tmpdir(), "depc-signatures-tree-"));
writeFileSync(join(treeSource, "a.txt"), "a\n");
writeFileSync(join(treeSource, "b.txt"), "b\n");

/** A model with every resource kind, in the variants that change a runtime call's arguments. */
function everyKind() {
  const venv = VirtualEnv({ path: "/srv/venv", requirements: ["six==1.16.0"], pipOptions: ["--no-index", "--find-links", "/srv/wheels"] });
  const conf = File({ path: "/srv/app.ini", content: "x\n" });
  const sup = Supervisor({ flavour: "user", base: "/srv/sv", bin: "/usr/bin" });
  const system = Supervisor({ flavour: "system" });
  return environment({
    hosts: {
      h: [
        Directory({ path: "/srv/d" }),
        Package({ name: "nginx" }),
        Package({ name: "cron", version: "3.0pl1-162" }),
        conf,
        File({ path: "/srv/secret", content: "s\n" }),
        Symlink({ path: "/srv/l", target: "/srv/d" }),
        Command({ name: "migrate", command: ["/bin/true"], creates: "/srv/done", whenChanged: [conf], timeout: 5 }),
        venv,
        VirtualEnv({ path: "/srv/bare" }),
        Buildout({ directory: "/srv/d", config: "[buildout]\n", extraFiles: { "base.cfg": "[x]\n" }, executable: venv, whenChanged: [conf] }),
        sup,
        Program({ supervisor: sup, name: "web", command: ["/bin/sleep", "100"], whenChanged: [conf], cold: true }),
        system,
        Program({ supervisor: system, name: "worker", command: ["/bin/sleep", "100"] }),
        Service({ name: "web", execStart: ["/bin/true"], whenChanged: [conf] }),
        Timer({ name: "backup", onCalendar: "daily", command: ["/bin/true"] }),
        User({ name: "app", home: "/srv/app", shell: "/bin/sh", uid: 1500, group: "app", groups: ["adm"], comment: "App" }),
        Group({ name: "app", gid: 1500 }),
        Download({ path: "/srv/a.tgz", url: "http://h/a.tgz", sha256: "a".repeat(64), owner: "app" }),
        Extract({ archive: "/srv/a.tgz", to: "/srv/a", strip: 1, owner: "app" }),
        CronJob({ name: "sweep", schedule: "@daily", command: "true" }),
        Logrotate({ name: "app", paths: ["/var/log/app.log"] }),
        Tree({ path: "/srv/tree", source: fromDirectory(treeSource) }),
      ],
    },
  });
}

function loweredCalls(): CheckedResource[] {
  const model = modelOf(everyKind(), { defaultName: "sig" });
  if (!model.ok) throw new Error(JSON.stringify(model.diagnostics));
  const host = model.environment.hosts[0]!;
  // A File holding a secret passes one more argument (its fingerprint salt).
  markSensitive(host.resources.find((r) => r.props.path === "/srv/secret")!, { values: ["s"], salt: "00".repeat(16) });
  const { hosts, diagnostics } = validate(model.environment);
  expect(diagnostics).toEqual([]);
  return [...hosts[0]!.resources];
}

describe("runtime function parameters", () => {
  it("every function a bundle calls documents its parameters, and they allow what the compiler passes", () => {
    const problems: string[] = [];
    const calls = loweredCalls();
    for (const r of calls) {
      const fn = functions.get(r.lowered.call);
      if (fn === undefined) {
        problems.push(`${r.kind} lowers to ${r.lowered.call}, which is not a runtime function`);
        continue;
      }
      const count = positionalArguments(r.definition, r.lowered).length;
      problems.push(...arityProblems(fn, count));
      // depc_step INDEX KIND KEY FUNC ARGS...
      problems.push(...arityProblems(functions.get("depc_step")!, 4 + count));
      // A cold resource's evade call (the bundle's depc_evade N): its owed key, then its evasion's arguments.
      if (r.evasion !== undefined) problems.push(...arityProblems(functions.get(r.definition.evade!.fn)!, 1 + Object.keys(r.evasion.args).length));
    }
    // Calls the emitter writes itself (compiler/emit/bundle.ts): facts in chunks of up to 256 paths,
    // owed reactions, and the masking wrapper of commands with secrets (SECRETSFN, then the program).
    for (const [name, counts] of [["depc_fact_stat", [1, 256]], ["depc_fact_sha256", [1, 256]], ["depc_owe", [1]], ["depc_masked", [2, 3]]] as const) {
      for (const count of counts) problems.push(...arityProblems(functions.get(name)!, count));
    }
    expect(problems).toEqual([]);
    // Every registered kind took part, so a new kind is checked as soon as it is added to everyKind().
    expect([...new Set(calls.map((r) => r.kind))].sort()).toEqual(kinds.map((k) => k.kind).sort());
  });

  it("the arity check catches drift (a header that lost a parameter)", () => {
    const fn = functions.get("depc_directory")!;
    expect(arityProblems(fn, 4)).toEqual([]);
    const drifted = { name: fn.name, text: fn.text.replace("# depc_directory PATH MODE OWNER GROUP:", "# depc_directory PATH MODE OWNER:") };
    expect(arityProblems(drifted, 4)).toEqual([
      "depc_directory is called with 4 arguments; its header documents 3: # depc_directory PATH MODE OWNER: PATH is a directory (created with",
    ]);
    expect(arityProblems({ name: "depc_x", text: "depc_x() {\n}" }, 1)).toEqual(['depc_x is called with 1 arguments but has no "# depc_x PARAM...:" header comment']);
  });
});

describe("runtime/README.md", () => {
  it("names each function's parameters as its header comment does", () => {
    const problems: string[] = [];
    let checked = 0;
    for (const [, span] of README.matchAll(/`(depc_[a-z0-9_]+(?: [^`]+)?)`/g)) {
      const [name, ...words] = span!.split(" ");
      const fn = functions.get(name!);
      if (fn === undefined || words.length === 0) continue;
      if (!words.every((w) => /^\[?([A-Z][A-Z0-9_]*|[a-z]+(\|[a-z]+)+)(\.\.\.)?\]?$/.test(w))) continue; // prose, not a signature
      const signature = documentedSignature(fn);
      if (signature === undefined) problems.push(`README shows \`${span}\`, but ${name} has no header comment`);
      else if (!mentionMatches(signature, words)) problems.push(`README shows \`${span}\`, the header says: ${signature.line}`);
      checked++;
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });

  it("describes every function the compiler calls", () => {
    const called = [...new Set(loweredCalls().map((r) => r.lowered.call)), "depc_step", "depc_collect", "depc_collected", "depc_fact_stat", "depc_fact_sha256", "depc_owe", "depc_masked", "depc_text_nonl", "depc_main"];
    expect(called.filter((name) => !README.includes(`\`${name} `) && !README.includes(`\`${name}\``))).toEqual([]);
  });

  it("shows the bundle's layout in the order the emitter writes it", () => {
    // The top-level definitions of a real bundle, content functions and runtime functions each as one entry.
    const bundle = compileValue(everyKind(), "sig").bundles!.get("h")!;
    const own = new Set(["depc_resources", "depc_expect", "depc_notifies", "depc_evasions", "depc_evade", "depc_facts", "depc_ledger"]);
    const emitted: string[] = [];
    for (const line of bundle.split("\n")) {
      const m = /^(depc_[a-z0-9_]+)\(\)/.exec(line) ?? /^(depc_main) "\$@"$/.exec(line);
      if (m === null) continue;
      const call = !line.includes("()");
      const entry = own.has(m[1]!) || call ? m[1]! : functions.has(m[1]!) ? "<runtime functions>" : "<contents>";
      if (emitted.at(-1) !== entry) emitted.push(entry);
    }
    const block = README.slice(README.indexOf("## The bundle"));
    const sketch = block.slice(block.indexOf("```sh"), block.indexOf("```\n", block.indexOf("```sh") + 5));
    const documented: string[] = [];
    for (const line of sketch.split("\n")) {
      const m = /^(depc_[a-z]+)\(\)/.exec(line) ?? /^(depc_main) "\$@"/.exec(line) ?? /^(<runtime functions>|<contents>)/.exec(line);
      if (m !== null) documented.push(m[1]!);
    }
    expect(documented).toEqual(emitted);
  });
});
