import { describe, expect, it } from "vitest";
import { compileFiles } from "../support/project.js";

// The component model: overrides, provide/require, ordering, cycles.
const components = `import { component, key, File, Directory } from "depc";
export const database = key<{ url: string }>("database");
export const backend = key<{ host: string; port: number }>("backend");
export const postgres = component({
  name: "postgres",
  settings: { port: 5432 },
  build(s, ctx) {
    ctx.provide(database, { url: \`pg://\${ctx.host.address}:\${s.port}\` });
    File({ path: "/etc/pg.conf", content: \`port = \${s.port}\\n\` });
  },
});
export const app = component({
  name: "app",
  settings: { port: 8080, workers: 2, root: "/srv/app" },
  build(s, ctx) {
    const db = ctx.requireOne(database);
    ctx.provide(backend, { host: ctx.host.name, port: s.port });
    Directory({ path: s.root });
    File({ path: \`\${s.root}/app.ini\`, content: \`db = \${db.url}\\nport = \${s.port}\\nworkers = \${s.workers}\\n\` });
  },
});
export const lb = component({
  name: "lb",
  build(_s, ctx) {
    const all = ctx.require(backend);
    File({ path: "/etc/lb.cfg", content: all.map((b) => \`\${b.host}:\${b.port}\\n\`).join("") });
  },
});
`;
const project = (env: string, extra: Record<string, string> = {}) => ({ "components.ts": components, "env/prod.ts": env, ...extra });
const envHeader = `import { environment, File } from "depc";\nimport { app, postgres, lb, database, backend } from "../components.ts";\n`;

const content = (result: Awaited<ReturnType<typeof compileFiles>>, host: string, path: string): string => {
  const bundle = result.bundles!.get(host)!;
  const step = bundle.split("\n").find((l) => l.includes(`depc_step`) && l.includes(`'${path}'`))!;
  const fn = /depc_content_\d+/.exec(step)![0];
  // A File's text content: one `printf '%s' '…'` (kinds/file writes with the printf builtin).
  const start = `${fn}() {\n  printf '%s' '`;
  const body = bundle.slice(bundle.indexOf(start) + start.length);
  return body.slice(0, body.indexOf("'\n}")).replaceAll("'\\''", "'");
};
const order = (result: Awaited<ReturnType<typeof compileFiles>>, host: string) =>
  result.bundles!.get(host)!.split("\n").filter((l) => /^  depc_step /.test(l)).map((l) => l.split(" ").slice(4, 7).join(" "));

describe("settings", () => {
  it("merge defaults < environment < host, and each value keeps its origin", async () => {
    const r = await compileFiles(
      project(
        envHeader +
          `export default environment({\n  hosts: { db: [postgres], a1: [app], a2: [app.with({ workers: 8 })], lb: [lb] },\n  settings: { app: { port: 9000, workers: 4 } },\n});\n`,
      ),
    );
    expect(r.printed).toBe("");
    expect(content(r, "a1", "/srv/app/app.ini")).toBe("db = pg://db:5432\nport = 9000\nworkers = 4\n");
    expect(content(r, "a2", "/srv/app/app.ini")).toBe("db = pg://db:5432\nport = 9000\nworkers = 8\n");
    const a2 = r.environment!.hosts.find((h) => h.name === "a2")!.components[0]!;
    expect(Object.fromEntries(Object.entries(a2.settings).map(([k, v]) => [k, [v.value, v.source, v.site?.line]]))).toEqual({
      port: [9000, "environment", 3],
      workers: [8, "host", 4],
      root: ["/srv/app", "default", 12],
    });
  });

  it("TS2353: a misspelt override key fails the type-check at the user's line, naming the nearest key", async () => {
    const r = await compileFiles(project(envHeader + `export default environment({\n  hosts: { a1: [app], db: [postgres], lb: [lb] },\n  settings: { app: { prot: 1 } },\n});\n`));
    expect(r.printed).toContain(
      "env/prod.ts:5:22 - error TS2353: Object literal may only specify known properties, and 'prot' does not exist in type 'Partial<{ port: number; workers: number; root: string; }>'. Did you mean 'port'?\n",
    );
  });

  it("TS2322: an override of the wrong type fails the type-check", async () => {
    const r = await compileFiles(project(envHeader + `export default environment({\n  hosts: { a1: [app.with({ workers: "many" })], db: [postgres], lb: [lb] },\n});\n`));
    expect(r.printed).toContain("env/prod.ts:4:28 - error TS2322: Type 'string' is not assignable to type 'number'.\n");
  });

  it("TS2353: overrides for a component that is not placed are a type error", async () => {
    const r = await compileFiles(project(envHeader + `export default environment({\n  hosts: { db: [postgres] },\n  settings: { app: { port: 1 } },\n});\n`));
    expect(r.printed).toMatch(/env\/prod\.ts:5:15 - error TS2353: Object literal may only specify known properties, and 'app' does not exist in type/);
  });

  it("DEPC4009: a misspelt setting that got past the types names the nearest one", async () => {
    const r = await compileFiles(project(envHeader + `export default environment({\n  hosts: { a1: [app.with({ wokers: 4 } as any)], db: [postgres], lb: [lb] },\n});\n`));
    expect(r.printed).toContain('env/prod.ts:4:17 - error DEPC4009: "app" on host "a1" sets "wokers", which component "app" does not have. Did you mean "workers"? Its settings: port, workers, root.\n');
  });

  it("DEPC4009: an unknown setting that got past the types (any) is still caught", async () => {
    const r = await compileFiles(project(envHeader + `export default environment({\n  hosts: { a1: [app.with({ colour: "red" } as any)], db: [postgres], lb: [lb] },\n});\n`));
    expect(r.printed).toBe(
      'env/prod.ts:4:17 - error DEPC4009: "app" on host "a1" sets "colour", which component "app" does not have. Its settings: port, workers, root.\n' +
        '\n4   hosts: { a1: [app.with({ colour: "red" } as any)], db: [postgres], lb: [lb] },\n                  ~~~~~~~~\n\n',
    );
  });
});

describe("hosts", () => {
  it("a host or a component can be ignored without deleting it", async () => {
    const r = await compileFiles(
      project(envHeader + `export default environment({\n  hosts: { db: [postgres], a1: [app], old: { components: [app, lb], ignore: true }, lb: [lb, postgres] },\n  ignore: ["postgres"],\n});\n`),
    );
    // postgres ignored everywhere: app's requireOne has no provider left.
    expect(r.printed).toContain('error DEPC4001: "a1/app" requires "database", but no component provides it.');
    const fine = await compileFiles(
      project(envHeader + `export default environment({\n  hosts: { db: [postgres], a1: [app], old: { components: [app, lb], ignore: true }, lb: [lb] },\n});\n`),
    );
    expect(fine.printed).toBe("");
    expect([...fine.bundles!.keys()]).toEqual(["db", "a1", "lb"]);
    expect(content(fine, "lb", "/etc/lb.cfg")).toBe("a1:8080\n");
  });

  it("TS2322: an ignored component name must be one that is placed", async () => {
    const r = await compileFiles(project(envHeader + `export default environment({\n  hosts: { db: [postgres] },\n  ignore: ["pstgres"],\n});\n`));
    expect(r.printed).toContain(`env/prod.ts:5:12 - error TS2322: Type '"pstgres"' is not assignable to type '"postgres"'.`);
  });

  it("host data is typed by the project's HostData declaration", async () => {
    const files = (value: string) => ({
      "env/prod.ts": `import { environment, component, File } from "depc";
declare module "depc" { interface HostData { role?: "primary" | "replica" } }
const role = component({ name: "role", build(_s, ctx) { File({ path: "/etc/role", content: \`\${ctx.host.data.role ?? "none"}\\n\` }); } });
export default environment({ hosts: { a: { data: { role: ${value} }, components: [role] } } });
`,
    });
    const ok = await compileFiles(files(`"replica"`));
    expect(ok.printed).toBe("");
    expect(ok.bundles!.get("a")).toContain("printf '%s' 'replica\n'");
    const bad = await compileFiles(files(`"leader"`));
    expect(bad.printed).toContain(`env/prod.ts:4:52 - error TS2322: Type '"leader"' is not assignable to type '"primary" | "replica" | undefined'.`);
  });
});

describe("provide and require", () => {
  it("DEPC4001: requireOne with no provider names the requirer, the key and both sites", async () => {
    const r = await compileFiles(project(envHeader + `export default environment({ hosts: { a1: [app], lb: [lb] } });\n`));
    expect(r.printed).toContain(
      'components.ts:16:20 - error DEPC4001: "a1/app" requires "database", but no component provides it.\n' +
        "\n16     const db = ctx.requireOne(database);\n                      ~~~~~~~~~~\n\n" +
        '  components.ts:2:25 - key "database" is declared here\n' +
        '\n  2 export const database = key<{ url: string }>("database");\n                            ~~~\n\n' +
        'components.ts:25:21 - error DEPC4001: "lb/lb" requires "backend", but no component provides it.\n',
    );
  });

  it("DEPC4003: requireOne with two providers lists the candidates", async () => {
    const r = await compileFiles(project(envHeader + `export default environment({ hosts: { a1: [app], db1: [postgres], db2: [postgres], lb: [lb] } });\n`));
    expect(r.printed).toContain('components.ts:16:20 - error DEPC4003: "a1/app" requires exactly one "database", but 2 components provide it: "db1/postgres", "db2/postgres".\n');
    expect(r.printed).toContain('  components.ts:8:9 - provided by "db1/postgres" here\n');
  });

  it("DEPC4002: a provided key that nobody requires", async () => {
    const r = await compileFiles(project(envHeader + `export default environment({ hosts: { db: [postgres] } });\n`));
    expect(r.printed).toBe(
      'components.ts:8:9 - error DEPC4002: "db/postgres" provides "database", but no component requires it. Remove the provide, or make it optional (ctx.provide(key, value, { optional: true })) if only some environments use it.\n' +
        "\n8     ctx.provide(database, { url: `pg://${ctx.host.address}:${s.port}` });\n          ~~~~~~~\n\n",
    );
  });

  it("DEPC4007: a provided value that depends on itself never settles, and the build says which key", async () => {
    // Each round provides one more than the round before saw: the fixed point does not exist.
    const r = await compileFiles({
      "env/prod.ts": `import { component, environment, key, File } from "depc";
const counter = key<{ n: number }>("counter");
const grow = component({
  name: "grow",
  build(_s, ctx) {
    const seen = ctx.require(counter, { optional: true });
    ctx.provide(counter, { n: seen.length === 0 ? 0 : seen[0]!.n + 1 });
    File({ path: "/etc/n", content: "n\\n" });
  },
});
export default environment({ hosts: { h: [grow] } });
`,
    });
    expect(r.bundles).toBeUndefined();
    expect(r.printed).toBe(
      'env/prod.ts:11:39 - error DEPC4007: provide/require does not settle after 4 rounds: the values of "counter" keep changing.\n' +
        "\n11 export default environment({ hosts: { h: [grow] } });\n                                         ~\n\n",
    );
  });

  it("DEPC4008: a require from a host that is not in the environment names the host and the environment", async () => {
    const r = await compileFiles({
      "env/prod.ts": `import { component, environment, key, File } from "depc";
const database = key<{ url: string }>("database");
const app = component({
  name: "app",
  build(_s, ctx) {
    const db = ctx.requireOne(database, { host: "db9" });
    File({ path: "/etc/app.ini", content: db.url });
  },
});
export default environment({ hosts: { a1: [app] } });
`,
    });
    expect(r.bundles).toBeUndefined();
    expect(r.printed).toBe(
      'env/prod.ts:6:20 - error DEPC4008: "a1/app" requires "database" from host "db9", which is not in environment "prod".\n' +
        '\n6     const db = ctx.requireOne(database, { host: "db9" });\n                     ~~~~~~~~~~\n\n',
    );
  });

  it("an optional provide: a staging without the load balancer (or ignoring it) builds; without optional it is DEPC4002", async () => {
    const optional = components.replace("ctx.provide(backend, { host: ctx.host.name, port: s.port });", "ctx.provide(backend, { host: ctx.host.name, port: s.port }, { optional: true });");
    const withoutLb = envHeader + `export default environment({ hosts: { a1: [app], db: [postgres] } });\n`;
    const ignoringLb = envHeader + `export default environment({ hosts: { a1: [app], db: [postgres], lb: [lb, File({ path: "/etc/motd", content: "lb\\n" })] }, ignore: ["lb"] });\n`;
    for (const env of [withoutLb, ignoringLb]) {
      const strict = await compileFiles(project(env));
      expect(strict.printed).toContain('components.ts:17:9 - error DEPC4002: "a1/app" provides "backend", but no component requires it. Remove the provide');
      const r = await compileFiles({ ...project(env), "components.ts": optional });
      expect(r.printed).toBe("");
      expect(r.ok).toBe(true);
    }
    // With a load balancer, the optional provide is wired as any other.
    const r = await compileFiles({ ...project(envHeader + `export default environment({ hosts: { lb: [lb], a1: [app], db: [postgres] } });\n`), "components.ts": optional });
    expect(r.printed).toBe("");
    expect(content(r, "lb", "/etc/lb.cfg")).toBe("a1:8080\n");
  });

  it("DEPC4006: the same component twice on a host, unless renamed", async () => {
    const r = await compileFiles(project(envHeader + `export default environment({ hosts: {\n  db: [postgres, postgres.with({ port: 5433 })],\n  a: [app], l: [lb],\n} });\n`));
    expect(r.printed).toContain('error DEPC4006: Host "db" has two component instances named "postgres"; place the second with .named("other-name").\n');
    const renamed = await compileFiles(
      project(envHeader + `export default environment({ hosts: {\n  db: [postgres, postgres.named("pg2").with({ port: 5433 })],\n  a: [app.with({})], l: [lb],\n} });\n`),
    );
    // Two databases now, so the app's requireOne is ambiguous: the rename itself is accepted.
    expect(renamed.printed).not.toContain("DEPC4006");
    expect(renamed.printed).toContain('"db/postgres", "db/pg2"');
  });

  it("require collects every provider across hosts, in host order", async () => {
    const r = await compileFiles(project(envHeader + `export default environment({ hosts: { lb: [lb], a2: [app.with({ port: 81 })], a1: [app], db: [postgres] } });\n`));
    expect(r.printed).toBe("");
    expect(content(r, "lb", "/etc/lb.cfg")).toBe("a2:81\na1:8080\n");
    expect(r.manifest!.waves).toEqual([["db"], ["a2", "a1"], ["lb"]]);
  });
});

describe("ordering", () => {
  it("providers come before requirers on the same host, whatever the declaration order", async () => {
    const r = await compileFiles(project(envHeader + `export default environment({ hosts: { one: [lb, app, postgres] } });\n`));
    expect(r.printed).toBe("");
    expect(order(r, "one")).toEqual(["file '/etc/pg.conf' depc_file", "directory '/srv/app' depc_directory", "file '/srv/app/app.ini' depc_file", "file '/etc/lb.cfg' depc_file"]);
  });

  it("declaration order breaks ties, so reordering independent things only changes their order", async () => {
    const files = (a: string, b: string) =>
      project(`import { environment, File, Directory } from "depc";\nexport default environment({ hosts: { h: [\n  ${a},\n  ${b},\n  Directory({ path: "/srv" }),\n] } });\n`);
    const x = `File({ path: "/srv/x", content: "x" })`;
    const y = `File({ path: "/etc/y", content: "y" })`;
    const first = await compileFiles(files(x, y));
    const second = await compileFiles(files(y, x));
    expect(order(first, "h")).toEqual(["file '/etc/y' depc_file", "directory '/srv' depc_directory", "file '/srv/x' depc_file"]);
    expect(order(second, "h")).toEqual(["file '/etc/y' depc_file", "directory '/srv' depc_directory", "file '/srv/x' depc_file"]);
  });

  it("after and before between resources and components", async () => {
    const r = await compileFiles(
      project(
        `import { environment, File, component } from "depc";\nconst a = File({ path: "/a", content: "a" });\nconst web = component({ name: "web", build() { File({ path: "/w", content: "w" }); } });\n` +
          `export default environment({ hosts: { h: [\n  File({ path: "/b", content: "b", before: [a] }),\n  a,\n  web,\n  File({ path: "/c", content: "c", before: [web] }),\n] } });\n`,
      ),
    );
    expect(r.printed).toBe("");
    expect(order(r, "h")).toEqual(["file '/b' depc_file", "file '/a' depc_file", "file '/c' depc_file", "file '/w' depc_file"]);
  });

  it("DEPC4004: a cycle within a host prints the whole cycle with each edge's line", async () => {
    const r = await compileFiles(
      project(
        `import { environment, File } from "depc";\nconst a: any = File({ path: "/a", content: "a" });\nconst b = File({ path: "/b", content: "b", after: [a] });\nconst c = File({ path: "/c", content: "c", after: [b], before: [a] });\n` +
          `export default environment({ hosts: { h: [a, b, c] } });\n`,
      ),
    );
    expect(r.printed).toContain('error DEPC4004: Dependency cycle on host "h": file /a => file /b => file /c => file /a\n');
    expect(r.printed).toContain("  env/prod.ts:3:11 - file /b is declared after file /a\n");
    expect(r.printed).toContain("  env/prod.ts:4:11 - file /c is declared after file /b\n");
    expect(r.printed).toContain("  env/prod.ts:4:11 - file /c is declared before file /a\n");
  });

  it("DEPC4005: a cycle across hosts names the hosts and each require", async () => {
    const cyclic = `import { component, key, File } from "depc";
export const ka = key<string>("a");
export const kb = key<string>("b");
export const one = component({ name: "one", build(_s, ctx) { ctx.provide(ka, "x"); ctx.requireOne(kb); } });
export const two = component({ name: "two", build(_s, ctx) { ctx.provide(kb, "y"); ctx.requireOne(ka); } });
`;
    const r = await compileFiles({ "c.ts": cyclic, "env/prod.ts": `import { environment } from "depc";\nimport { one, two } from "../c.ts";\nexport default environment({ hosts: { h1: [one], h2: [two] } });\n` });
    expect(r.printed).toContain("error DEPC4005: Dependency cycle across hosts: h1 => h2 => h1. Hosts are deployed in order, so each host must only wait for others.\n");
    expect(r.printed).toContain('  c.ts:5:88 - h2/two requires "a" from h1/one\n');
    expect(r.printed).toContain('  c.ts:4:88 - h1/one requires "b" from h2/two\n');
    const sameHost = await compileFiles({ "c.ts": cyclic, "env/prod.ts": `import { environment } from "depc";\nimport { one, two } from "../c.ts";\nexport default environment({ hosts: { h: [one, two] } });\n` });
    expect(sameHost.printed).toContain('error DEPC4004: Dependency cycle on host "h": one => two => one\n');
  });

  it("an async build function is a type error; a non-placeable return that got past the types is DEPC4011", async () => {
    const asyncBuild = await compileFiles({
      "env/prod.ts": `import { environment, component, File } from "depc";\nconst slow = component({ name: "slow", async build() {\n  File({ path: "/a", content: "a" });\n} });\nexport default environment({ hosts: { h: [slow] } });\n`,
    });
    expect(asyncBuild.printed).toContain("env/prod.ts:2:46 - error TS2322: Type '() => Promise<void>' is not assignable to type");
    const untyped = await compileFiles({
      "env/prod.ts": `import { environment, component } from "depc";\nconst odd = component({ name: "odd", build: (() => "web") as any });\nexport default environment({ hosts: { h: [odd] } });\n`,
    });
    expect(untyped.printed).toBe(
      'env/prod.ts:3:39 - error DEPC4011: The build of "h/odd" returned "web"; return resources, components or lists of them.\n' +
        "\n3 export default environment({ hosts: { h: [odd] } });\n                                        ~\n\n",
    );
  });

  it("an exception in a build function is reported at its line", async () => {
    const r = await compileFiles({
      "env/prod.ts": `import { environment, component } from "depc";\nconst bad = component({ name: "bad", settings: { n: 1 }, build(s) {\n  if (s.n > 0) throw new RangeError("n must be 0");\n} });\nexport default environment({ hosts: { h: [bad] } });\n`,
    });
    expect(r.printed).toContain("env/prod.ts:3:22 - error DEPC1003: Evaluating the model threw: RangeError: n must be 0\n");
  });
});
