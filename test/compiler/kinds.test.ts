/**
 * The resource kinds as units: each kind's definition (kinds/<kind>/compile.ts)
 * matches its shell side, an unregistered kind is an internal error, and keys
 * are namespaced by what they claim.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { messages } from "../../compiler/diagnostics/messages.js";
import { paramName, positionalArguments, type KindDefinition } from "../../kinds/kind.js";
import { kinds } from "../../kinds/registry.js";
import { resourcesPage } from "../support/docs.js";
import { compileFiles, makeProject, repoRoot } from "../support/project.js";

/** The parameter words of `# depc_fn WORD WORD...:` in a .sh file (the comment above the function). */
function headerWords(text: string, fn: string): string[] | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`# ${fn} `));
  if (line === undefined) return undefined;
  return line
    .slice(`# ${fn} `.length)
    .split(":")[0]!
    .trim()
    .split(/\s+/);
}

describe("kind definitions", () => {
  it("every kind's runtime calls are documented in its .sh file with exactly the declared parameters", () => {
    const seen: string[] = [];
    for (const kind of kinds) {
      const text = readFileSync(join(repoRoot, "kinds", kind.folder, kind.runtime.file), "utf8");
      for (const call of kind.runtime.calls) {
        expect(text, `${kind.kind}: ${call.fn} is defined in ${kind.runtime.file}`).toMatch(new RegExp(`^${call.fn}\\(\\) \\{`, "m"));
        // PARAM, [PARAM] (optional last), PARAM... or [PARAM...] (the rest).
        const shown = call.params.map((p) => (p.endsWith("...") ? `${paramName(p).toUpperCase()}...` : p.toUpperCase()));
        const words = headerWords(text, call.fn)?.map((w) => w.replace(/^\[(.*\.\.\.)\]$/, "$1"));
        expect(words, `${kind.kind}: the header comment of ${call.fn}`).toEqual(shown);
        seen.push(call.fn);
      }
      // Its remove call (runtime/ledger.sh runs it with the ledger's data) and its evade call (cold deployment), headed the same way.
      for (const extra of [kind.remove, kind.evade]) {
        if (extra === undefined) continue;
        const { fn, params } = extra;
        expect(text, `${kind.kind}: ${fn} is defined in ${kind.runtime.file}`).toMatch(new RegExp(`^${fn}\\(\\) \\{`, "m"));
        expect(headerWords(text, fn), `${kind.kind}: the header comment of ${fn}`).toEqual(params.map((p) => (p.endsWith("...") ? `${paramName(p).toUpperCase()}...` : p.toUpperCase())));
        seen.push(fn);
      }
    }
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("docs/resources.md is assembled from the kinds' README.md files (UPDATE_SNAPSHOTS=1 rewrites it)", () => {
    const path = join(repoRoot, "docs", "resources.md");
    if (process.env.UPDATE_SNAPSHOTS === "1") writeFileSync(path, resourcesPage());
    expect(readFileSync(path, "utf8")).toBe(resourcesPage());
  });

  it("names registered kinds once, each with its diagnostics in the catalogue", () => {
    expect(new Set(kinds.map((k) => k.kind)).size).toBe(kinds.length);
    for (const kind of kinds) for (const id of kind.diagnostics) expect(messages[id], `${kind.kind}: ${id}`).toBeDefined();
  });

  const fake: KindDefinition = {
    kind: "fake",
    folder: "fake",
    claims: "path",
    container: false,
    runtime: { file: "fake.sh", calls: [{ fn: "depc_fake", params: ["path", "mode", "[salt]", "rest..."] }] },
    reacts: false,
    diagnostics: [],
    check: () => undefined,
  };
  it.each([
    ["all given", { path: "/a", mode: "0644", salt: "s", rest: ["x", "y"] }, ["/a", "0644", "s", "x", "y"]],
    ["an optional one left out", { path: "/a", mode: undefined, rest: [] }, ["/a", undefined]],
  ])("orders named arguments by the declared parameters: %s", (_label, args, expected) => {
    expect(positionalArguments(fake, { call: "depc_fake", args })).toEqual(expected);
  });

  it.each([
    ["a missing argument", "depc_fake", { path: "/a", rest: [] }, 'kind "fake": depc_fake lacks its argument mode'],
    ["an unknown argument", "depc_fake", { path: "/a", mode: "", rest: [], colour: "red" }, 'kind "fake": depc_fake has no parameter colour'],
    ["a rest that is not a list", "depc_fake", { path: "/a", mode: "", rest: "x" }, 'kind "fake": depc_fake\'s rest must be a list'],
    ["an undeclared call", "depc_other", { path: "/a" }, 'kind "fake" lowered to depc_other, which it does not declare in runtime.calls'],
  ])("a lowering with %s is a bug in the kind", (_label, call, args, message) => {
    expect(() => positionalArguments(fake, { call, args })).toThrow(message);
  });
});

describe("kind registration", () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  it("a resource of a kind nobody registered is an internal error (exit 70), never dropped from the bundle", () => {
    const project = makeProject({
      "env/prod.ts": `import { environment, File } from "depc";
// A resource object as depc's factories make them, of a kind no factory makes.
const bogus = Object.freeze({ [Symbol.for("depc.resource")]: true, [Symbol.for("depc.sites")]: [], kind: "bogus", props: Object.freeze({ path: "/x" }) });
export default environment({ hosts: { web1: [File({ path: "/etc/motd", content: "hi\\n" }), bogus as never] } });
`,
    });
    cleanup = project.cleanup;
    const r = spawnSync(process.execPath, [join(repoRoot, "bin", "depc.js"), "build", "env/prod"], { cwd: project.dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    expect(r.status).toBe(70);
    expect(r.stderr).toContain(`depc: internal error: Error: resource kind "bogus" is not registered (kinds/registry.ts knows ${kinds.map((k) => k.kind).join(", ")})`);
    expect(r.stderr).toContain("This is a bug in depc, not in your model: please report it with the output above.");
  });
});

describe("keys are namespaced by what they claim", () => {
  const header = `import { environment, Command, Directory, File, Service } from "depc";\n`;

  it('a Service "web" and a Command "web.service" do not collide: a unit name is not a command name', async () => {
    const result = await compileFiles({
      "env/prod.ts": `${header}export default environment({ hosts: { web1: [
  Service({ name: "web", execStart: "/bin/true" }),
  Command({ name: "web.service", command: ["/bin/true"], creates: "/srv/done" }),
] } });\n`,
    });
    expect(result.printed).toBe("");
    const bundle = result.bundles!.get("web1")!;
    expect(bundle).toContain("depc_step 1 service 'web.service' depc_service 'service:web.service' 'web.service'");
    expect(bundle).toContain("depc_step 2 command 'web.service' depc_command 'command:web.service'");
  });

  it("two resources claiming one path still collide (DEPC2005), whatever their kinds", async () => {
    const result = await compileFiles({
      "env/prod.ts": `${header}export default environment({ hosts: { web1: [\n  Directory({ path: "/srv/app" }),\n  File({ path: "/srv/app/", content: "" }),\n] } });\n`,
    });
    expect(result.printed).toContain('env/prod.ts:4:3 - error DEPC2005: "/srv/app" is declared twice on host "web1": as file here and as directory elsewhere.\n');
  });

  it("a File and a Service may share a name: a unit name is not a path", async () => {
    const result = await compileFiles({
      "env/prod.ts": `${header}export default environment({ hosts: { web1: [\n  File({ path: "/srv/web.service", content: "" }),\n  Service({ name: "web.service", execStart: "/bin/true" }),\n] } });\n`,
    });
    expect(result.printed).toBe("");
  });
});
