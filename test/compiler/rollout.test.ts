// Rollout policies and drains at build time: the exact diagnostics, and what
// the manifest carries so that `depc deploy --from` needs no compiler.
import { describe, expect, it } from "vitest";
import { compileFiles } from "../support/project.js";
import { resolveSize, splitBatches } from "../../compiler/rollout.js";

const app = `import { component, key, File, haproxyDrain, commandDrain } from "depc";
export const backend = key<{ name: string; port: number }>("backend");
export const app = component({
  name: "app",
  settings: { port: 8080 },
  build(s, ctx) {
    ctx.provide(backend, { name: ctx.host.name, port: s.port });
    File({ path: "/srv/app.ini", content: "port = " + s.port + "\\n" });
  },
});
export const lb = component({
  name: "lb",
  settings: { adapter: "haproxy" },
  build(s, ctx) {
    const servers = ctx.require(backend, {
      drain: (b) => s.adapter === "haproxy" ? haproxyDrain({ backend: "apps", server: b.name }) : s.adapter === "command" ? commandDrain({ leave: ["lbctl", "off", b.name], back: ["lbctl", "on", b.name] }) : haproxyDrain({ backend: "apps", server: s.adapter }),
    });
    File({ path: "/etc/lb.cfg", content: servers.map((b) => "server " + b.name + "\\n").join("") });
  },
});
`;

const envWith = (rollout: string, hosts = "app1: [app], app2: [app], app3: [app], lb1: [lb]", extra = "") => ({
  "components.ts": app,
  "env/prod.ts": `import { environment } from "depc";\nimport { app, lb } from "../components.ts";\nexport default environment({\n  hosts: { ${hosts} },\n  rollout: ${rollout},${extra}\n});\n`,
});

async function printed(files: Record<string, string>): Promise<string> {
  const result = await compileFiles(files);
  expect(result.ok).toBe(false);
  return result.printed;
}

describe("rollout policy at build time", () => {
  it("resolves batch sizes: counts, percentages rounded down (at least 1), the last size repeating", () => {
    expect(resolveSize(1, 3)).toBe(1);
    expect(resolveSize("50%", 3)).toBe(1);
    expect(resolveSize("50%", 10)).toBe(5);
    expect(resolveSize("1%", 10)).toBe(1);
    expect(resolveSize("100%", 4)).toBe(4);
    expect(resolveSize(0, 4)).toBeUndefined();
    expect(resolveSize("150%", 4)).toBeUndefined();
    expect(resolveSize(1.5, 4)).toBeUndefined();
    expect(splitBatches(["a", "b", "c", "d", "e"], [1, 2])).toEqual([["a"], ["b", "c"], ["d", "e"]]);
    expect(splitBatches(["a"], [3])).toEqual([["a"]]);
  });

  it("writes the resolved policy and each app host's drain into the manifest", async () => {
    const result = await compileFiles(envWith(`{ app: { batches: [1, "50%"], pause: 2, maxFailed: 1 } }`));
    expect(result.printed).toBe("");
    expect(result.manifest!.rollout).toEqual({ app: { hosts: ["app1", "app2", "app3"], batches: [1, 1], pauseSeconds: 2, maxFailed: 1, onFailure: "stop" } });
    const app2 = result.manifest!.hosts.find((h) => h.name === "app2")!;
    expect(app2.drains).toEqual([{ via: "lb1", adapter: "haproxy", backend: "apps", server: "app2", socket: "/run/haproxy/admin.sock", timeoutSeconds: 30 }]);
    expect(result.manifest!.hosts.find((h) => h.name === "lb1")!.drains).toBeUndefined();
  });

  it("the command adapter: its argv, as given", async () => {
    const result = await compileFiles(envWith(`{ app: { batches: [1] } }`, `app1: [app], app2: [app], lb1: [lb.with({ adapter: "command" })]`));
    expect(result.printed).toBe("");
    expect(result.manifest!.hosts[0]!.drains).toEqual([{ via: "lb1", adapter: "command", leave: ["lbctl", "off", "app1"], back: ["lbctl", "on", "app1"], timeoutSeconds: 60 }]);
  });

  it("DEPC3100: a batch that takes every host of a component down at once, at the environment's line", async () => {
    expect(await printed(envWith(`{ app: { batches: ["100%"] } }`))).toBe(
      'env/prod.ts:3:16 - error DEPC3100: The rollout of "app" takes all 3 of its hosts (app1, app2, app3) down at once: its first batch, "100%", is every host. Make the batches smaller, or set allowFullOutage: true to accept the outage.\n' +
        "\n3 export default environment({\n                 ~~~~~~~~~~~\n\n",
    );
    // A component on one host: every batch is the whole component.
    expect(await printed(envWith(`{ lb: { batches: [1] } }`))).toContain(
      'error DEPC3100: The rollout of "lb" takes all 1 of its hosts (lb1) down at once: its first batch, 1, is every host.',
    );
  });

  it("allowFullOutage: true accepts it", async () => {
    const result = await compileFiles(envWith(`{ app: { batches: [3], allowFullOutage: true } }`));
    expect(result.printed).toBe("");
    expect(result.manifest!.rollout!.app!.batches).toEqual([3]);
  });

  it("DEPC3101 and DEPC3102: a policy for a component no host runs, and values that are not usable", async () => {
    const out = await printed(
      envWith(`{ db: { batches: [1] }, app: { batches: [0, "150%"], pause: -1, maxFailed: "x", onFailure: "retry" } } as any`),
    );
    expect(out).toContain('error DEPC3101: The rollout names component "db", which no host of environment "prod" runs. The components: "app", "lb".\n');
    expect(out).toContain('error DEPC3102: The rollout of "app": batch size 0 is not a whole number of hosts (1 or more) or a percentage ("1%" to "100%").\n');
    expect(out).toContain('error DEPC3102: The rollout of "app": batch size "150%" is not a whole number of hosts (1 or more) or a percentage ("1%" to "100%").\n');
    expect(out).toContain('error DEPC3102: The rollout of "app": pause -1 is not a number of seconds (0 or more).\n');
    expect(out).toContain('error DEPC3102: The rollout of "app": maxFailed "x" is not a whole number of hosts (0 or more) or a percentage.\n');
    expect(out).toContain('error DEPC3102: The rollout of "app": onFailure "retry" must be "stop" or "rollback".\n');
  });

  it("a misspelt component name in rollout is a type error", async () => {
    const out = await printed(envWith(`{ ap: { batches: [1] } }`));
    expect(out).toContain("error TS2353");
  });

  it("DEPC4100: a drain whose names HAProxy's CLI would read as syntax, at the require", async () => {
    const out = await printed(envWith(`{ app: { batches: [1] } }`, `app1: [app], app2: [app], lb1: [lb.with({ adapter: "a b;shutdown" })]`));
    expect(out).toContain(
      'components.ts:15:25 - error DEPC4100: "lb1/lb" drains "app1/app" (key "backend"): server "a b;shutdown" is not an HAProxy name (letters, digits, \'_\', \'.\', \':\', \'-\').\n',
    );
  });
});
