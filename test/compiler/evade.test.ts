/**
 * Cold deployment in the compiler (compiler/emit/evade.ts): which resources
 * are a cold Program's precursors — the earlier resources of its top-level
 * component (sub-components included) and its whenChanged triggers, never a
 * collected kind's members — as the bundle's depc_evasions table says. Its
 * behaviour on a real supervisord is test/supervisor/cold.test.ts.
 */
import { describe, expect, it } from "vitest";
import { component, CronJob, Directory, environment, File, Program, Supervisor } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";

const table = (bundle: string) => bundle.slice(bundle.indexOf("depc_evasions() {"), bundle.indexOf("depc_facts() {"));

describe("cold precursors", () => {
  it("are the earlier resources of its top-level component and its whenChanged triggers", () => {
    const sup = Supervisor({ flavour: "user", base: "/srv/sv" });
    const outside = File({ path: "/srv/outside.ini", content: "o\n" });
    const unrelated = File({ path: "/srv/unrelated", content: "u\n" });
    const code = component({ name: "code", build: () => [File({ path: "/srv/app.py", content: "x\n" })] });
    const app = component({
      name: "app",
      build: () => [
        Directory({ path: "/srv/app" }),
        code,
        CronJob({ name: "sweep", schedule: "@daily", command: "true" }),
        Program({ supervisor: sup, name: "worker", command: ["/bin/sleep", "1000"], cold: true, whenChanged: [outside], after: [code] }),
        File({ path: "/srv/app/after", content: "a\n" }),
      ],
    });
    const bundle = compileValue(environment({ hosts: { h: [sup, outside, unrelated, app] } })).bundles!.get("h")!;
    const at = (key: string) => Number(new RegExp(`depc_step (\\d+) \\w+ '${key}'`).exec(bundle)![1]);
    const program = at("/srv/sv/conf.d/worker.conf");
    // Run order decides "before": of its component, what runs before it (the sub-component's file too), but not the
    // cron job (a collected kind); outside it, its whenChanged file, but not the supervisor nor the unrelated file.
    const precursors = [at("/srv/outside.ini"), ...["/srv/app", "/srv/app.py", "/srv/app/after"].map(at).filter((i) => i < program)].sort((a, b) => a - b);
    expect(precursors).toContain(at("/srv/app.py"));
    expect(at("root:sweep")).toBeLessThan(program);
    expect(table(bundle)).toBe(
      `depc_evasions() {\n  case $1 in\n    ${precursors.join(" | ")}) shift && depc_evade_before '${program}' "$@" ;;\n  esac\n}\n` +
        `depc_evade() {\n  case $1 in\n    ${program}) depc_supervisor_program_evade 'program-cold:/srv/sv/conf.d/worker.conf' 'worker' 'supervisorctl' '/srv/sv/supervisord.conf' ;;\n  esac\n}\n`,
    );
    expect(bundle).toContain("\ndepc_evade_before() {\n");
  });

  it("a bundle without cold programs has an empty table and carries no evade runtime", () => {
    const sup = Supervisor({ flavour: "user", base: "/srv/sv" });
    const bundle = compileValue(environment({ hosts: { h: [sup, Program({ supervisor: sup, name: "web", command: ["/bin/sleep", "1"] })] } })).bundles!.get("h")!;
    expect(table(bundle)).toBe("depc_evasions() {\n  :\n}\n");
    expect(bundle).not.toContain("depc_evade_before() {");
    expect(bundle).not.toContain("'program-cold:");
  });
});
