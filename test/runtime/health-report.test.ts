// A health check's outcome travels from the bundle's --report to what
// `depc deploy` collects per host (tools/deploy/results.ts) and writes into
// its JSON report: the rollout reads passed/failed, attempts and seconds
// there. Real bundles under dash (the report is written by one awk pass,
// the same under every shell: test/runtime/health.test.ts runs all six).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Directory, environment, HealthCheck } from "../../model/index.js";
import { collectResources, OutputCollector } from "../../tools/deploy/results.js";
import { compileValue } from "../support/inmemory.js";
import { requireTool } from "../support/shells.js";

const dir = mkdtempSync(join(tmpdir(), "depc-health-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(requireTool("dash") && requireTool("timeout"))("health results in the deploy's view of a host", () => {
  it("a passing and a failing check: result, attempts and seconds per resource; the ok line keeps its detail", () => {
    const bundle = compileValue(
      environment({ hosts: { h: [HealthCheck({ name: "up", command: ["true"] }), HealthCheck({ name: "down", command: ["false"], retries: 3, interval: 0 })] } }),
    ).bundles!.get("h")!;
    writeFileSync(join(dir, "b.sh"), bundle);
    const r = spawnSync("dash", [join(dir, "b.sh"), "--state-dir", join(dir, "state"), "--report", join(dir, "r.json")], { encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    const out = new OutputCollector();
    for (const line of r.stdout.split("\n").filter((l) => l !== "")) out.push(line);
    const { resources, counts } = collectResources(readFileSync(join(dir, "r.json"), "utf8").split("\n"), out, "apply", 2);
    expect(counts).toMatchObject({ ok: 1, failed: 1 });
    expect(resources.map((x) => ({ key: x.key, status: x.status, health: x.health && { ...x.health, seconds: x.health.seconds >= 0 } }))).toEqual([
      { key: "up", status: "ok", health: { result: "passed", attempts: 1, seconds: true } },
      { key: "down", status: "failed", health: { result: "failed", attempts: 3, seconds: true } },
    ]);
    expect(resources[1]!.error).toMatch(/^health check failed after 3 attempts in [0-9]+\.[0-9]s: false exited with status 1$/);
  });

  it("a HealthCheck that leaves the model leaves nothing to remove: no removal line, in --check or apply", () => {
    const run = (name: string, withCheck: boolean, ...args: string[]) => {
      const resources = [Directory({ path: join(dir, "d") }), ...(withCheck ? [HealthCheck({ name: "c", command: ["true"] })] : [])];
      writeFileSync(join(dir, name), compileValue(environment({ hosts: { h: resources } })).bundles!.get("h")!);
      return spawnSync("dash", [join(dir, name), "--state-dir", join(dir, "state2"), ...args], { encoding: "utf8" });
    };
    expect(run("with.sh", true).status).toBe(0);
    const check = run("without.sh", false, "--check");
    expect([check.status, check.stdout]).toEqual([0, `ok            directory ${join(dir, "d")}\ndepc: test/h (check): 1 resources: 0 would change, 1 ok\n`]);
    const apply = run("without.sh", false);
    expect([apply.status, apply.stdout]).toEqual([0, `ok            directory ${join(dir, "d")}\ndepc: test/h: 1 resources: 0 changed, 1 ok, 0 failed\n`]);
  });
});
