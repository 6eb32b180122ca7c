import { afterEach, describe, expect, it } from "vitest";
import { main, type Io } from "../../compiler/cli.js";
import { makeProject } from "../support/project.js";

// `depc inspect` through the CLI entry point, in process, on a real project.

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

async function depc(files: Record<string, string>, ...args: string[]) {
  const project = makeProject(files);
  cleanup = project.cleanup;
  let stdout = "";
  let stderr = "";
  const io: Io = { cwd: project.dir, stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), color: false };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

// Defaults, environment and host overrides, a renamed instance, a sub-component
// with its own `.with()`, a resource placed on a host directly, ssh details,
// provide/require across hosts and an explicit `after`.
const model: Record<string, string> = {
  "components/db.ts": `import { component, key, File } from "depc";

export const database = key<{ url: string }>("database");

export const postgres = component({
  name: "postgres",
  settings: { port: 5432, data: "/var/lib/pg" },
  build(s, ctx) {
    ctx.provide(database, { url: \`postgres://\${ctx.host.address}:\${s.port}/app\` });
    File({ path: \`\${s.data}/pg.conf\`, content: \`port = \${s.port}\\n\` });
  },
});
`,
  "components/app.ts": `import { component, Directory, File } from "depc";
import { database } from "./db.ts";

export const venv = component({
  name: "venv",
  settings: { python: "python3", root: "/srv/app" },
  build(s) {
    Directory({ path: \`\${s.root}/venv\` });
  },
});

export const app = component({
  name: "app",
  settings: { port: 8080, workers: 2, root: "/srv/app" },
  build(s, ctx) {
    const db = ctx.requireOne(database);
    Directory({ path: s.root });
    File({ path: \`\${s.root}/app.ini\`, content: \`db = \${db.url}\\nworkers = \${s.workers}\\n\`, after: [venv] });
    return [venv.with({ root: s.root })];
  },
});
`,
  "env/prod.ts": `import { environment, File } from "depc";
import { app } from "../components/app.ts";
import { postgres } from "../components/db.ts";

export default environment({
  hosts: {
    web1: {
      address: "web1.example.com",
      user: "deploy",
      port: 2222,
      components: [File({ path: "/etc/motd", content: "web1\\n", mode: 0o644 }), app],
    },
    web2: [app.with({ workers: 4 }).named("api")],
    db: [postgres],
  },
  settings: { app: { port: 8081 } },
});
`,
};

const expected = `environment prod  env/prod.ts:5:16
waves
  1  db
  2  web1, web2

host web1 (address web1.example.com, user deploy, port 2222, wave 2)  env/prod.ts:7:5
  #1 file /etc/motd (content 5 bytes, mode 0644)  env/prod.ts:11:20
  web1/app: component app  env/prod.ts:7:5
    defined at components/app.ts:12:20
    settings
      port     8081        environment  env/prod.ts:5:16
      workers  2           default      components/app.ts:12:20
      root     "/srv/app"  default      components/app.ts:12:20
    requires "database" from db/postgres  components/app.ts:16:20
    #2 directory /srv/app  components/app.ts:17:5
    #4 file /srv/app/app.ini (content 40 bytes)  components/app.ts:18:5
        after component web1/app/venv
    web1/app/venv: component venv  components/app.ts:19:13
      defined at components/app.ts:4:21
      settings
        python  "python3"   default  components/app.ts:4:21
        root    "/srv/app"  host     components/app.ts:19:13
      #3 directory /srv/app/venv  components/app.ts:8:5

host web2 (address web2, wave 2)  env/prod.ts:13:5
  web2/api: component app named api  env/prod.ts:13:37
    defined at components/app.ts:12:20
    settings
      port     8081        environment  env/prod.ts:5:16
      workers  4           host         env/prod.ts:13:37
      root     "/srv/app"  default      components/app.ts:12:20
    requires "database" from db/postgres  components/app.ts:16:20
    #1 directory /srv/app  components/app.ts:17:5
    #3 file /srv/app/app.ini (content 40 bytes)  components/app.ts:18:5
        after component web2/api/venv
    web2/api/venv: component venv  components/app.ts:19:13
      defined at components/app.ts:4:21
      settings
        python  "python3"   default  components/app.ts:4:21
        root    "/srv/app"  host     components/app.ts:19:13
      #2 directory /srv/app/venv  components/app.ts:8:5

host db (address db, wave 1)  env/prod.ts:14:5
  db/postgres: component postgres  env/prod.ts:14:5
    defined at components/db.ts:5:25
    settings
      port  5432           default  components/db.ts:5:25
      data  "/var/lib/pg"  default  components/db.ts:5:25
    provides "database" to web1/app, web2/api
    #1 file /var/lib/pg/pg.conf (content 12 bytes)  components/db.ts:10:5
`;

describe("depc inspect", () => {
  it("prints hosts, components, settings with their sources, wiring, run order and waves", async () => {
    const r = await depc(model, "inspect", "env/prod");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(expected);
  });

  it("prints the same text on every run", async () => {
    const first = await depc(model, "inspect", "env/prod", "--no-cache");
    const second = await depc(model, "inspect", "env/prod");
    expect(second.stdout).toBe(first.stdout);
  });

  it("--json: the same facts as data", async () => {
    const r = await depc(model, "inspect", "env/prod", "--json");
    expect(r.code).toBe(0);
    const view = JSON.parse(r.stdout);
    expect(view.environment).toBe("prod");
    expect(view.waves).toEqual([["db"], ["web1", "web2"]]);
    expect(view.hosts.map((h: { name: string; wave: number }) => [h.name, h.wave])).toEqual([["web1", 2], ["web2", 2], ["db", 1]]);
    const web2 = view.hosts[1];
    expect(web2.components[0]).toEqual({
      id: "web2/api",
      name: "api",
      component: "app",
      parent: null,
      site: "env/prod.ts:13:37",
      definition: "components/app.ts:12:20",
      settings: {
        port: { value: 8081, source: "environment", site: "env/prod.ts:5:16" },
        workers: { value: 4, source: "host", site: "env/prod.ts:13:37" },
        root: { value: "/srv/app", source: "default", site: "components/app.ts:12:20" },
      },
      requires: [{ key: "database", from: ["db/postgres"], site: "components/app.ts:16:20" }],
      provides: [],
      after: [],
    });
    expect(web2.components[1]).toMatchObject({ id: "web2/api/venv", parent: "web2/api" });
    expect(web2.resources.map((x: { order: number; kind: string; key: string; owner: string }) => [x.order, x.kind, x.key, x.owner])).toEqual([
      [1, "directory", "/srv/app", "web2/api"],
      [2, "directory", "/srv/app/venv", "web2/api/venv"],
      [3, "file", "/srv/app/app.ini", "web2/api"],
    ]);
    expect(web2.resources[2]).toMatchObject({
      after: ["component web2/api/venv"],
      props: { content: { bytes: 40, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } },
    });
    expect(view.hosts[0]).toMatchObject({ address: "web1.example.com", user: "deploy", port: 2222 });
    expect(view.hosts[0].resources[0]).toMatchObject({ kind: "file", key: "/etc/motd", owner: null, order: 1, props: { mode: 0o644 } });
    expect(view.hosts[2].components[0].provides).toEqual([{ key: "database", to: ["web1/app", "web2/api"] }]);
    expect(view.wiring).toEqual([
      { key: "database", requirer: "web1/app", providers: ["db/postgres"], site: "components/app.ts:16:20" },
      { key: "database", requirer: "web2/api", providers: ["db/postgres"], site: "components/app.ts:16:20" },
    ]);
  });

  it("shows odd setting values as JSON, long ones cut, host data on its own line", async () => {
    const r = await depc(
      {
        "env/prod.ts": `import { component, environment } from "depc";
declare module "depc" { interface HostData { role?: string } }
const odd = component({
  name: "odd",
  settings: { text: "tab\\there \\"quoted\\"\\n", list: [1, "two"], nested: { a: { b: null } }, long: "x".repeat(200) },
  build() {},
});
export default environment({ hosts: { h1: { data: { role: "primary" }, components: [odd] } } });
`,
      },
      "inspect",
      "env/prod",
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`environment prod  env/prod.ts:8:16
waves
  1  h1

host h1 (address h1, wave 1)  env/prod.ts:8:39
  data {"role":"primary"}
  h1/odd: component odd  env/prod.ts:8:39
    defined at env/prod.ts:3:13
    settings
      text    "tab\\there \\"quoted\\"\\n"  default  env/prod.ts:3:13
      list    [1,"two"]                 default  env/prod.ts:3:13
      nested  {"a":{"b":null}}          default  env/prod.ts:3:13
      long    "${"x".repeat(118)}… (202 characters)  default  env/prod.ts:3:13
`);
  });

  it("describes a model that does not order (a cycle), with the diagnostic, and exits 1", async () => {
    const r = await depc(
      {
        "env/prod.ts": `import { environment, File } from "depc";
const a = File({ path: "/a", content: "" });
const b = File({ path: "/b", content: "", after: [a], before: [a] });
export default environment({ hosts: { h1: [a, b] } });
`,
      },
      "inspect",
      "env/prod",
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error DEPC");
    expect(r.stderr).toContain("Found 1 error.");
    expect(r.stdout).toContain("host h1 (address h1, wave 1)");
    expect(r.stdout).toContain("  - file /a");
    expect(r.stdout).toContain("  - file /b");
  });

  it("a Program's supervisor by its base, a secret file's content by its key (decrypting nothing)", async () => {
    const files = {
      "env/prod.ts": `import { environment, File, Supervisor, Program, secret, secretText } from "depc";
const sup = Supervisor({ flavour: "user", base: "/srv/sv" });
export default environment({ hosts: { web1: [
  sup,
  Program({ supervisor: sup, name: "web", command: ["/bin/sleep", "100"] }),
  File({ path: "/etc/pw", content: secret("db.password"), mode: 0o600 }),
  File({ path: "/etc/app.ini", content: secretText\`password = \${secret("db.password")}\\n\` }),
] } });
`,
    };
    const r = await depc(files, "inspect", "env/prod");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  #2 program /srv/sv/conf.d/web.conf (supervisor "[supervisor /srv/sv]", name "web", command ["/bin/sleep","100"])  env/prod.ts:5:3\n');
    expect(r.stdout).toContain('  #3 file /etc/pw (content {"key":"db.password"}, mode 0600)  env/prod.ts:6:3\n');
    expect(r.stdout).toContain('  #4 file /etc/app.ini (content {"secretText":["password = ",{"key":"db.password"},"\\n"]})  env/prod.ts:7:3\n');
    const json = await depc(files, "inspect", "env/prod", "--json");
    const resources = JSON.parse(json.stdout).hosts[0].resources;
    expect(resources[1].props.supervisor).toBe("[supervisor /srv/sv]");
    expect(resources[2].props.content).toEqual({ key: "db.password" });
  });

  it("a model that does not type-check: diagnostics only, exit 1", async () => {
    const r = await depc({ "env/prod.ts": `import { environment } from "depc";\nexport default environment({ hosts: { h1: [42] } });\n` }, "inspect", "env/prod");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^env\/prod\.ts:2:\d+ - error TS\d+/);
  });
});
