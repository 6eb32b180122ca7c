// In the model and in the build: secret references, their diagnostics,
// delivery only where used, bundle modes and the manifest.
import { statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileProject, depc, makeKey, secretProject, tempDir } from "./support.js";

const SECRETS = { db: { password: "hunter2-db" }, "api.token": "tok-API-77", "tls.key": "-----BEGIN KEY-----\nMIIabc\n-----END KEY-----\n" };

const model = (root: string) => ({
  "components/app.ts": `import { component, File, secret, secretText, type Secret } from "depc";
export const app = component({
  name: "app",
  settings: { password: secret("db.password") as Secret, root: "${root}" },
  build: (s) => [
    File({ path: \`\${s.root}/app.ini\`, content: secretText\`[db]\\nuser = app\\npassword = \${s.password}\\n\` }),
    File({ path: \`\${s.root}/token\`, mode: 0o640, content: secret("api.token") }),
    File({ path: \`\${s.root}/plain.txt\`, content: "not secret\\n" }),
  ],
});
`,
  "env/prod.ts": `import { environment, File, secret } from "depc";
import { app } from "../components/app.js";
export default environment({
  hosts: {
    app1: [app],
    lb1: [File({ path: "${root}/lb.cfg", content: "backend app1\\n" })],
    tls1: [File({ path: "${root}/tls.key", content: secret("tls.key") })],
  },
});
`,
});

describe("secrets in the model", () => {
  it("reach only the hosts whose resources use them; those bundles are 0600 and marked in the manifest", async () => {
    const dir = tempDir("model");
    const key = await makeKey(dir);
    const project = await secretProject(model("/srv/x"), SECRETS, [key.recipient]);
    const result = await compileProject(project.dir, key.file);
    expect(result.printed).toBe("");
    const bundles = result.bundles!;
    const scan = (host: string) => {
      const bytes = Buffer.from(bundles.get(host)!, "utf8");
      return ["hunter2-db", "tok-API-77", "MIIabc"].filter((v) => bytes.includes(Buffer.from(v)));
    };
    expect(scan("app1")).toEqual(["hunter2-db", "tok-API-77"]);
    expect(scan("lb1")).toEqual([]);
    expect(scan("tls1")).toEqual(["MIIabc"]);
    expect(result.manifest!.hosts.map((h) => [h.name, h.secrets])).toEqual([
      ["app1", true],
      ["lb1", undefined],
      ["tls1", true],
    ]);

    const built = await depc(project.dir, ["build", "env/prod", "--identity", key.file]);
    expect(built.stderr).toBe("");
    expect(built.code).toBe(0);
    expect(built.stdout.split("\n").slice(0, 3)).toEqual([
      "  build/prod/app1.sh  3 resources, with secrets (mode 0600)",
      "  build/prod/lb1.sh  1 resource",
      "  build/prod/tls1.sh  1 resource, with secrets (mode 0600)",
    ]);
    const mode = (host: string) => (statSync(join(project.dir, "build", "prod", `${host}.sh`)).mode & 0o7777).toString(8);
    expect([mode("app1"), mode("lb1"), mode("tls1")]).toEqual(["600", "700", "600"]);
    const manifest = JSON.parse((await import("node:fs")).readFileSync(join(project.dir, "build", "prod", "manifest.json"), "utf8"));
    expect(manifest.hosts[0].secrets).toBe(true);
    expect("secrets" in manifest.hosts[1]).toBe(false);
  });

  it("secret files default to 0600; a declared mode wins", async () => {
    const dir = tempDir("modes");
    const key = await makeKey(dir);
    const project = await secretProject(model("/srv/x"), SECRETS, [key.recipient]);
    const text = (await compileProject(project.dir, key.file)).bundles!.get("app1")!;
    expect(text).toMatch(/depc_file '\/srv\/x\/app\.ini' '0600' '' '' '[0-9a-f]{64}' depc_content_1 '[0-9a-f]{64}'\n/);
    expect(text).toMatch(/depc_file '\/srv\/x\/token' '0640' '' '' '[0-9a-f]{64}' depc_content_2 '[0-9a-f]{64}'\n/);
    expect(text).toMatch(/depc_file '\/srv\/x\/plain\.txt' '0644' '' '' '[0-9a-f]{64}' depc_content_3\n/);
  });

  it("builds are byte-identical, and nothing changes for a model without secrets (no identity needed)", async () => {
    const dir = tempDir("determinism");
    const key = await makeKey(dir);
    const project = await secretProject(model("/srv/x"), SECRETS, [key.recipient]);
    const a = await compileProject(project.dir, key.file);
    const b = await compileProject(project.dir, key.file);
    expect([...a.bundles!.values()]).toEqual([...b.bundles!.values()]);

    const plain = await secretProject({ "env/prod.ts": `import { environment, File } from "depc";\nexport default environment({ hosts: { h: [File({ path: "/srv/a", content: "a\\n" })] } });\n` }, undefined, []);
    const saved = { ...process.env };
    process.env.HOME = tempDir("emptyhome");
    delete process.env.DEPC_AGE_KEY;
    delete process.env.DEPC_AGE_IDENTITY;
    try {
      const result = await compileProject(plain.dir, undefined);
      expect(result.printed).toBe("");
      expect(result.manifest!.hosts[0]).not.toHaveProperty("secrets");
      expect(result.bundles!.get("h")).toMatch(/depc_file '\/srv\/a' '0644' '' '' '[0-9a-f]{64}' depc_content_1\n/);
    } finally {
      process.env = saved;
    }
  });
});

describe("secret diagnostics", () => {
  const one = (line: string) => ({
    "env/prod.ts": `import { environment, File, secret, secretText } from "depc";
export default environment({
  hosts: {
    h: [
      ${line}
    ],
  },
});
`,
  });

  it("a missing key is DEPC5004 at the secret() call, listing the keys (not the values)", async () => {
    const dir = tempDir("missing");
    const key = await makeKey(dir);
    const project = await secretProject(one(`File({ path: "/srv/a", content: secretText\`pw=\${secret("db.pasword")}\\n\` }),`), SECRETS, [key.recipient]);
    const result = await compileProject(project.dir, key.file);
    expect(result.ok).toBe(false);
    expect(result.printed).toBe(
      `env/prod.ts:5:55 - error DEPC5004: Secret "db.pasword" is not in secrets/prod.age. Its keys: api.token, db.password, tls.key. Add it with: depc secrets edit prod

5       File({ path: "/srv/a", content: secretText\`pw=\${secret("db.pasword")}\\n\` }),
                                                        ~~~~~~

`,
    );
    expect(result.printed).not.toContain("hunter2");
  });

  it("a secret turned into a string is DEPC5001 at the user's line, saying how to use it", async () => {
    const dir = tempDir("misuse");
    const key = await makeKey(dir);
    for (const [code, column] of [
      ['File({ path: "/srv/a", content: `pw=${secret("db.password")}\\n` }),', 46],
      ['File({ path: "/srv/a", content: "pw=" + String(secret("db.password")) }),', 47],
    ] as const) {
      const project = await secretProject(one(code), SECRETS, [key.recipient]);
      const result = await compileProject(project.dir, key.file);
      expect(result.ok).toBe(false);
      expect(result.diagnostics.map((d) => [d.code, d.location?.line])).toEqual([["DEPC5001", 5]]);
      expect(result.printed).toContain(
        'error DEPC5001: secret("db.password") was turned into a string. A secret never becomes a plain string in the model: ' +
          'use it as a File\'s content (content: secret("key")) or in a secretText template (content: secretText`password=${secret("key")}\\n`).',
      );
      void column;
    }
  });

  it("the type system refuses a secret where a string is expected", async () => {
    const dir = tempDir("types");
    const key = await makeKey(dir);
    const project = await secretProject(
      {
        "env/prod.ts": `import { environment, File, secret } from "depc";
const path: string = secret("db.password");
export default environment({ hosts: { h: [File({ path: "/srv/a", mode: secret("db.password"), content: "x" })] } });
`,
      },
      SECRETS,
      [key.recipient],
    );
    const result = await compileProject(project.dir, key.file);
    expect(result.diagnostics.map((d) => `${d.code} ${d.location?.line}`)).toEqual(["TS2322 2", "TS2322 3"]);
    expect(result.printed).toContain("Type 'Secret' is not assignable to type 'string'");
  });

  it("no secrets file is DEPC5002; a wrong identity is DEPC5003 naming the key", async () => {
    const dir = tempDir("nofile");
    const key = await makeKey(dir);
    const other = await makeKey(dir, "other");
    const uses = one(`File({ path: "/srv/a", content: secret("db.password") }),`);
    const missing = await secretProject(uses, undefined, [key.recipient]);
    const r1 = await compileProject(missing.dir, key.file);
    expect(r1.printed.split("\n")[0]).toBe(
      'env/prod.ts:5:39 - error DEPC5002: The model uses secret "db.password", but secrets/prod.age does not exist. Create it with: depc secrets edit prod',
    );
    const project = await secretProject(uses, SECRETS, [key.recipient]);
    const r2 = await compileProject(project.dir, other.file);
    expect(r2.printed.split("\n")[0]).toBe(
      `env/prod.ts:5:39 - error DEPC5003: Cannot read the secrets of this environment: cannot decrypt ${join(project.dir, "secrets", "prod.age")}: ` +
        `the identity from ${other.file} (${other.recipient}) is not one of its recipients. Ask someone who can decrypt it to run: depc secrets recipients add <env> ${other.recipient}`,
    );
    const cli = await depc(project.dir, ["build", "env/prod", "--identity", other.file]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("error DEPC5003");
    expect(cli.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe("secrets in templates, and where they cannot go", () => {
  it("a template may return secretText; JSON.stringify refuses; a secret in a guard is DEPC5005", async () => {
    const dir = tempDir("templates");
    const key = await makeKey(dir);
    const project = await secretProject(
      {
        "env/prod.ts": `import { environment, File, secret, secretText, template, type Secret } from "depc";
const pw = secret("db.password");
const env = (v: { pw: Secret; port: number }) => secretText\`PGPASSWORD=\${v.pw}\\nPORT=\${v.port}\\n\`;
export default environment({
  hosts: {
    h: [File({ path: "/srv/db.env", content: template(env, { pw, port: 5432 }) })],
  },
});
`,
      },
      SECRETS,
      [key.recipient],
    );
    const result = await compileProject(project.dir, key.file);
    expect(result.printed).toBe("");
    expect(result.bundles!.get("h")).toContain("PGPASSWORD=hunter2-db\nPORT=5432\n");
    expect(result.manifest!.hosts[0]!.secrets).toBe(true);

    const json = await secretProject(
      { "env/prod.ts": `import { environment, File, secret } from "depc";\nexport default environment({ hosts: { h: [File({ path: "/srv/a.json", content: JSON.stringify({ pw: secret("db.password") }) })] } });\n` },
      SECRETS,
      [key.recipient],
    );
    const r1 = await compileProject(json.dir, key.file);
    expect(r1.diagnostics.map((d) => `${d.code} ${d.location?.line}`)).toEqual(["DEPC5001 2"]);

    const guard = await secretProject(
      {
        "env/prod.ts": `import { environment, Command, secret } from "depc";
export default environment({ hosts: { h: [Command({ name: "c", command: ["true"], unless: ["test", secret("db.password")] as never })] } });
`,
      },
      SECRETS,
      [key.recipient],
    );
    const r2 = await compileProject(guard.dir, key.file);
    expect(r2.printed.split("\n")[0]).toBe(
      'env/prod.ts:2:43 - error DEPC5005: Command "c": a secret cannot be used in unless. Secrets go into a File\'s content (content: secret("key") or secretText`...`).',
    );
  });
});

describe("binary secrets", () => {
  it("secret(key, { encoding: \"base64\" }) is a file's exact bytes; bad base64 is DEPC5006; no mixing into text", async () => {
    const dir = tempDir("binary");
    const key = await makeKey(dir);
    const bytes = Uint8Array.from([0, 1, 2, 0xff, 0x0a, 0x27]);
    const secrets = { "krb.keytab": Buffer.from(bytes).toString("base64"), bad: "not base64!" };
    const project = await secretProject(
      { "env/prod.ts": `import { environment, File, secret } from "depc";\nexport default environment({ hosts: { h: [File({ path: "/etc/krb5.keytab", content: secret("krb.keytab", { encoding: "base64" }) })] } });\n` },
      secrets,
      [key.recipient],
    );
    const result = await compileProject(project.dir, key.file);
    expect(result.printed).toBe("");
    const text = result.bundles!.get("h")!;
    expect(text).toContain("depc_content_1() {\n  printf '\\000\\001\\002\\377\\012\\047'\n}");
    expect(text).toMatch(/depc_file '\/etc\/krb5\.keytab' '0600' '' '' '[0-9a-f]{64}' depc_content_1 '[0-9a-f]{64}'/);

    const bad = await secretProject(
      { "env/prod.ts": `import { environment, File, secret } from "depc";\nexport default environment({ hosts: { h: [File({ path: "/etc/x", content: secret("bad", { encoding: "base64" }) })] } });\n` },
      secrets,
      [key.recipient],
    );
    expect((await compileProject(bad.dir, key.file)).printed.split("\n")[0]).toBe(
      'env/prod.ts:2:75 - error DEPC5006: Secret "bad" is used with encoding "base64", but its value in secrets/prod.age is not valid base64.',
    );
    const mixed = await secretProject(
      { "env/prod.ts": `import { environment, File, secret, secretText } from "depc";\nexport default environment({ hosts: { h: [File({ path: "/etc/x", content: secretText\`k=\${secret("krb.keytab", { encoding: "base64" })}\` })] } });\n` },
      secrets,
      [key.recipient],
    );
    const r = await compileProject(mixed.dir, key.file);
    expect(r.diagnostics.map((d) => d.code)).toEqual(["DEPC5001"]);
    expect(r.printed).toContain('secretText: secret("krb.keytab", { encoding: "base64" }) is binary; use it as a File\'s whole content.');
  });
});
