import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { messages } from "../../compiler/diagnostics/messages.js";
import { compileFiles, repoRoot } from "../support/project.js";

// One test per diagnostic, each asserting the exact text a user sees.
const header = `import { environment, File, Directory, Symlink, Command } from "depc";\n`;
const env = (body: string) => ({ "env/prod.ts": header + body });

async function printed(files: Record<string, string>, envPath?: string): Promise<string> {
  const result = await compileFiles(files, envPath);
  expect(result.ok).toBe(false);
  expect(result.bundles).toBeUndefined();
  return result.printed;
}

describe("diagnostics", () => {
  it("DEPC1001: environment module not found", async () => {
    expect(await printed({}, "env/nope")).toBe(
      "error DEPC1001: Cannot find environment module 'env/nope'. Give a path to an environment module such as env/prod or env/prod.ts.\n",
    );
  });

  it("DEPC1002: no default-exported environment", async () => {
    expect(await printed({ "env/prod.ts": "export const hosts = 1;\n" })).toBe(
      "env/prod.ts:1:1 - error DEPC1002: The environment module must default-export environment({...}); its default export is undefined.\n" +
        "\n1 export const hosts = 1;\n  ~\n\n",
    );
  });

  it("DEPC1003: the model throws while evaluating, located at the throw", async () => {
    const out = await printed(
      env(`function port(): number {\n  throw new Error("no port configured");\n}\nexport default environment({ hosts: { web1: [File({ path: "/p", content: String(port()) })] } });\n`),
    );
    expect(out).toBe(
      "env/prod.ts:3:9 - error DEPC1003: Evaluating the model threw: Error: no port configured\n" +
        '\n3   throw new Error("no port configured");\n          ~~~\n\n',
    );
  });

  it("TS2322: a type error in an option, printed with a code frame", async () => {
    const out = await printed(env(`export default environment({ hosts: { web1: [File({ path: "/etc/motd", content: 42 })] } });\n`));
    expect(out).toMatch(/^env\/prod\.ts:2:72 - error TS2322: Type 'number' is not assignable to type 'string \| Uint8Array/);
    expect(out).toContain("\n2 export default environment({ hosts: { web1: [File({ path: \"/etc/motd\", content: 42 })] } });\n");
  });

  it("TS2353: a misspelt option is a type error naming the nearest option, not silently ignored", async () => {
    const out = await printed(env(`export default environment({ hosts: { web1: [Directory({ path: "/srv", mdoe: 0o700 })] } });\n`));
    expect(out).toBe(
      "env/prod.ts:2:72 - error TS2353: Object literal may only specify known properties, and 'mdoe' does not exist in type 'DirectoryOptions'. Did you mean 'mode'?\n" +
        '\n2 export default environment({ hosts: { web1: [Directory({ path: "/srv", mdoe: 0o700 })] } });\n' +
        `${" ".repeat(73)}~~~~\n\n`,
    );
  });

  it("reports every type error at once", async () => {
    const out = await printed(
      env(`export default environment({ hosts: { web1: [\n  File({ path: 1, content: "x" }),\n  Symlink({ path: "/l" }),\n] } });\n`),
    );
    expect(out.match(/ - error TS\d+/g)).toHaveLength(2);
    expect(out).toContain("env/prod.ts:3:10 - error TS2322");
    expect(out).toContain("env/prod.ts:4:11 - error TS2345: Argument of type '{ path: string; }' is not assignable to parameter of type 'SymlinkOptions'.\n  Property 'target' is missing");
  });

  const resourceCases: [string, string, string][] = [
    ["DEPC2001", `File({ path: "etc/motd", content: "x" })`, 'File path must be absolute: "etc/motd"'],
    ["DEPC2002", `File({ path: "/etc/mo\\ntd", content: "x" })`, 'File path contains a control character (U+000A): "/etc/mo\\ntd"'],
    ["DEPC2003", `Directory({ path: "/srv/../etc" })`, "Directory path contains a '..' segment: \"/srv/../etc\""],
    ["DEPC2004", `File({ path: "/etc/motd", content: "x", mode: "0999" })`, 'File "/etc/motd": mode "0999" is not an octal mode between 0000 and 7777.'],
    ["DEPC2004", `Directory({ path: "/srv", mode: 0o17777 })`, 'Directory "/srv": mode 8191 (0o17777) is not an octal mode between 0000 and 7777.'],
    ["DEPC2007", `File({ path: "/etc/motd", content: "x", owner: "root; rm -rf /" })`, 'File "/etc/motd": owner "root; rm -rf /" is not a valid user or group (a name like www-data, or a numeric id).'],
    ["DEPC2008", `File({ path: "/etc/motd" } as any)`, 'File "/etc/motd" needs content: give `content` (a string or bytes) or a `template` with its `vars`.'],
    ["DEPC2009", `Symlink({ path: "/srv/current", target: "" })`, 'Symlink "/srv/current": the target is missing or empty.'],
    ["DEPC2010", `Directory({ path: "" })`, "Directory path is missing or empty."],
    ["DEPC2012", `Directory({ path: "/" })`, "Directory path must not be the root directory '/'."],
    ["DEPC2013", `Command({ name: "re load", command: "true", always: true })`, 'Command name "re load" cannot be used: it must match [A-Za-z0-9][A-Za-z0-9._:@-]*.'],
    ["DEPC2014", `Command({ name: "build", command: "make && make install", always: true })`, 'Command "build": command contains the shell operator "&&": depc runs one program, not a shell; use an argv list, or ["sh", "-c", script] deliberately.'],
    ["DEPC2014", `Command({ name: "greet", command: "echo $HOME", always: true })`, 'Command "greet": command uses $HOME: variables are not expanded; pass env or an argv list.'],
    ["DEPC2015", `Command({ name: "run", command: ["env"], env: { "1X": "a" }, always: true })`, 'Command "run": environment variable "1X" is not a valid name.'],
    ["DEPC2016", `Command({ name: "migrate", command: ["manage", "migrate"] } as any)`, 'Command "migrate" has no guard: give creates, unless, onlyIf or whenChanged, or always: true to run it on every apply.'],
    ["DEPC2017", `Command({ name: "slow", command: ["sleep", "9"], timeout: 0.5, always: true })`, 'Command "slow": timeout 0.5 is not a positive whole number of seconds.'],
    [
      "DEPC2019",
      `File({ path: "/srv/big.bin", content: new Uint8Array(8 * 1024 * 1024 + 1) })`,
      'File "/srv/big.bin": the content is 8388609 bytes; a bundle carries at most 8388608 bytes (8 MiB) per content. Every shell that runs a bundle reads the whole script into memory first, and larger content made bash and busybox sh crash. Put a large file on the host another way: a Command that downloads it (with creates: the path) or a package.',
    ],
    ["DEPC2018", `Directory({ path: "/srv/\\uD800" })`, 'Directory path "/srv/\\ud800" contains a lone UTF-16 surrogate: it is not valid Unicode and cannot be written as UTF-8.'],
    // Issue 13, finding 9: limits counted in UTF-8 bytes, as the host counts them.
    ["DEPC2020", `Directory({ path: "/srv/${"é".repeat(128)}" })`, `Directory path: the name "${"é".repeat(16)}…" is 256 bytes long; a file or directory name may have at most 255 bytes (UTF-8).`],
    ["DEPC2021", `File({ path: "${("/" + "a".repeat(200)).repeat(21)}", content: "x" })`, `File path "/${"a".repeat(15)}…" is 4221 bytes long; a path may have at most 4095 bytes (UTF-8).`],
    ["DEPC2009", `Symlink({ path: "/srv/l", target: "${"é".repeat(2048)}" })`, 'Symlink "/srv/l": the target is 4096 bytes long; a symlink target may have at most 4095 bytes (UTF-8).'],
  ];
  for (const [code, call, message] of resourceCases) {
    it(`${code}: ${message}`, async () => {
      const out = await printed(env(`export default environment({ hosts: { web1: [\n  ${call},\n] } });\n`));
      expect(out).toBe(`env/prod.ts:3:3 - error ${code}: ${message}\n\n3   ${call},\n    ${"~".repeat(call.indexOf("("))}\n\n`);
    });
  }

  // Issue 13, finding 9: `mode: 644` is the number 644 = 0o1204, a valid mode nobody means.
  it("DEPC2022: a mode written in decimal, at the literal; octal, hex, strings and 0 pass", async () => {
    const out = await printed(
      env(
        `export default environment({ hosts: { web1: [\n  File({ path: "/a", content: "x", mode: 644 }),\n  Directory({ path: "/b", mode: 493 }),\n` +
          `  File({ path: "/c", content: "x", mode: 0o644 }),\n  File({ path: "/d", content: "x", mode: "0644" }),\n  Directory({ path: "/e", mode: 0x1ed }),\n  Directory({ path: "/f", mode: 0 }),\n] } });\n` +
          `export const notAMode = { mode: 644 };\n`,
      ),
    );
    expect(out).toBe(
      "env/prod.ts:3:42 - error DEPC2022: mode 644 is a decimal number (0o1204); write it in octal: 0o644.\n" +
        '\n3   File({ path: "/a", content: "x", mode: 644 }),\n                                           ~~~\n\n' +
        "env/prod.ts:4:33 - error DEPC2022: mode 493 is a decimal number (0o755); write it in octal: 0o755.\n" +
        '\n4   Directory({ path: "/b", mode: 493 }),\n                                  ~~~\n\n',
    );
  });

  it("a mode above 0o7777 is refused with its octal spelling", async () => {
    const out = await printed(env(`const m = 4644;\nexport default environment({ hosts: { web1: [\n  Directory({ path: "/srv", mode: m }),\n] } });\n`));
    expect(out).toContain('error DEPC2004: Directory "/srv": mode 4644 (0o11044) is not an octal mode between 0000 and 7777.\n');
  });

  it("DEPC2016 from the type-check: a command without any guard names the guards at the user's line, not in depc's .d.ts", async () => {
    const out = await printed(env(`export default environment({ hosts: { web1: [\n  Command({ name: "migrate", command: ["manage", "migrate"] }),\n] } });\n`));
    expect(out).toBe(
      'env/prod.ts:3:11 - error DEPC2016: Command "migrate" has no guard: give creates, unless, onlyIf or whenChanged, or always: true to run it on every apply.\n' +
        '\n3   Command({ name: "migrate", command: ["manage", "migrate"] }),\n            ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n\n',
    );
    // A name that is not a literal is shown as written.
    const computed = await printed(env(`const app = "web";\nexport default environment({ hosts: { web1: [\n  Command({ name: \`\${app}-migrate\`, command: "true" }),\n] } });\n`));
    expect(computed).toContain("env/prod.ts:4:11 - error DEPC2016: Command `${app}-migrate` has no guard: give creates, unless, onlyIf or whenChanged, or always: true to run it on every apply.\n");
  });

  it("DEPC1014: a node: import without Node's declarations says how to get them (tsconfig's types would not help)", async () => {
    const out = await printed({ "env/prod.ts": `import { readFileSync } from "node:fs";\n` + header + `export default environment({ hosts: { web1: [File({ path: "/etc/motd", content: readFileSync("/etc/hostname", "utf8") })] } });\n` });
    expect(out).toBe(
      `env/prod.ts:1:30 - error DEPC1014: Cannot find "node:fs": Node's type declarations are not installed. Install them with npm install --save-dev @types/node (depc uses them when the project has them; it does not read tsconfig.json).\n` +
        '\n1 import { readFileSync } from "node:fs";\n                               ~~~~~~~~~\n\n',
    );
  });

  it("a setting that fails validation also points at the line that set it", async () => {
    const components = `import { component, Directory, File } from "depc";\nexport const app = component({\n  name: "app",\n  settings: { root: "/srv/app", port: 80 },\n  build(s) {\n    Directory({ path: s.root });\n    File({ path: \`\${s.root}/app.ini\`, content: \`port = \${s.port}\\n\` });\n  },\n});\n`;
    const staging = `import { environment } from "depc";\nimport { app } from "../components.ts";\n\nexport default environment({\n  hosts: { web1: [app], web2: [app.with({\n    root: "srv/two",\n  })] },\n  settings: {\n    app: { root: "srv/app", port: 8080 },\n  },\n});\n`;
    const out = await printed({ "components.ts": components, "env/staging.ts": staging }, "env/staging");
    expect(out).toBe(
      'components.ts:6:5 - error DEPC2001: Directory path must be absolute: "srv/app"\n' +
        "\n6     Directory({ path: s.root });\n      ~~~~~~~~~\n\n" +
        '  env/staging.ts:9:12 - app.root is set to "srv/app" here (environment settings)\n' +
        '\n  9     app: { root: "srv/app", port: 8080 },\n               ~~~~~~~~~~~~~~~\n\n' +
        'components.ts:6:5 - error DEPC2001: Directory path must be absolute: "srv/two"\n' +
        "\n6     Directory({ path: s.root });\n      ~~~~~~~~~\n\n" +
        '  env/staging.ts:6:5 - app.root is set to "srv/two" here (host web2)\n' +
        '\n  6     root: "srv/two",\n        ~~~~~~~~~~~~~~~\n\n' +
        'components.ts:7:5 - error DEPC2001: File path must be absolute: "srv/app/app.ini"\n' +
        "\n7     File({ path: `${s.root}/app.ini`, content: `port = ${s.port}\\n` });\n      ~~~~\n\n" +
        '  env/staging.ts:9:12 - app.root is set to "srv/app" here (environment settings)\n' +
        '\n  9     app: { root: "srv/app", port: 8080 },\n               ~~~~~~~~~~~~~~~\n\n' +
        'components.ts:7:5 - error DEPC2001: File path must be absolute: "srv/two/app.ini"\n' +
        "\n7     File({ path: `${s.root}/app.ini`, content: `port = ${s.port}\\n` });\n      ~~~~\n\n" +
        '  env/staging.ts:6:5 - app.root is set to "srv/two" here (host web2)\n' +
        '\n  6     root: "srv/two",\n        ~~~~~~~~~~~~~~~\n\n',
    );
  });

  it("DEPC2005: one path declared twice on a host names both sites", async () => {
    const out = await printed(
      env(`export default environment({ hosts: { web1: [\n  File({ path: "/etc/motd", content: "a" }),\n  Symlink({ path: "/etc//motd/", target: "x" }),\n] } });\n`),
    );
    expect(out).toBe(
      'env/prod.ts:4:3 - error DEPC2005: "/etc/motd" is declared twice on host "web1": as symlink here and as file elsewhere.\n' +
        '\n4   Symlink({ path: "/etc//motd/", target: "x" }),\n    ~~~~~~~\n\n' +
        "  env/prod.ts:3:3 - first declared here as file\n" +
        '\n  3   File({ path: "/etc/motd", content: "a" }),\n      ~~~~\n\n',
    );
  });

  it("DEPC2006: a resource inside a path declared as a file or symlink", async () => {
    const out = await printed(
      env(`export default environment({ hosts: { web1: [\n  Symlink({ path: "/srv/app", target: "/opt/app" }),\n  File({ path: "/srv/app/app.ini", content: "a" }),\n] } });\n`),
    );
    expect(out).toContain('env/prod.ts:4:3 - error DEPC2006: File "/srv/app/app.ini" is inside "/srv/app", which host "web1" declares as a symlink.\n');
    expect(out).toContain("  env/prod.ts:3:3 - /srv/app is declared here as symlink\n");
  });

  it("DEPC2011: something that is not a resource on a host", async () => {
    const out = await printed(env(`export default environment({ hosts: {\n  web1: ["hello" as any],\n} });\n`));
    expect(out).toBe(
      'env/prod.ts:3:3 - error DEPC2011: Host "web1" lists "hello", which is not a resource. Place resources made by File(), Directory(), Symlink(), …\n' +
        '\n3   web1: ["hello" as any],\n    ~~~~\n\n',
    );
  });

  it("DEPC3001: a host name that cannot be a file name", async () => {
    const out = await printed(env(`export default environment({ hosts: {\n  "web/1": [],\n} });\n`));
    expect(out).toContain(
      'env/prod.ts:3:3 - error DEPC3001: Host name "web/1" cannot be used: host names become bundle file names and must match [A-Za-z0-9][A-Za-z0-9._-]*.\n',
    );
    expect(out).toContain('\n3   "web/1": [],\n    ~~~~~~~\n');
  });

  it("DEPC3002 and DEPC3003: a bad environment name and no hosts, reported together", async () => {
    const out = await printed(env(`export default environment({ name: "prod 2", hosts: {} });\n`));
    expect(out).toBe(
      'env/prod.ts:2:16 - error DEPC3002: Environment name "prod 2" cannot be used: it must match [A-Za-z0-9][A-Za-z0-9._-]*.\n' +
        '\n2 export default environment({ name: "prod 2", hosts: {} });\n                 ~~~~~~~~~~~\n\n' +
        'env/prod.ts:2:16 - error DEPC3003: Environment "prod 2" has no hosts: there is nothing to build.\n' +
        '\n2 export default environment({ name: "prod 2", hosts: {} });\n                 ~~~~~~~~~~~\n\n',
    );
  });

  it("DEPC3004 and DEPC3005: ssh settings that are not usable, including option injection", async () => {
    const out = await printed(
      env(`export default environment({ hosts: {\n  web1: { port: 70000, user: "-oProxyCommand=touch /tmp/x", components: [] },\n} });\n`),
    );
    expect(out).toContain('env/prod.ts:3:3 - error DEPC3004: Host "web1": port 70000 is not a TCP port (1-65535).\n');
    expect(out).toContain(
      'env/prod.ts:3:3 - error DEPC3005: Host "web1": user "-oProxyCommand=touch /tmp/x" is not usable for ssh: it must be non-empty, without whitespace, control characters or a leading \'-\'.\n',
    );
  });

  it("DEPC3040: an environment's removal option that is neither remove nor report", async () => {
    const out = await printed(env(`export default environment({ removal: "delete" as any, hosts: { web1: [] } });\n`));
    expect(out).toBe(
      'env/prod.ts:2:16 - error DEPC3040: Environment option removal is "delete"; it must be "remove" (remove what left the model) or "report" (only report it).\n' +
        '\n2 export default environment({ removal: "delete" as any, hosts: { web1: [] } });\n                 ~~~~~~~~~~~\n\n',
    );
  });

  it("collects problems from all hosts and resources in one run", async () => {
    const out = await printed(
      env(
        `export default environment({ hosts: {\n  web1: [File({ path: "a", content: "x" }), Directory({ path: "/x/../y" })],\n  web2: [File({ path: "/ok", content: "x", mode: "9" })],\n} });\n`,
      ),
    );
    expect(out.match(/ - error DEPC\d+/g)).toEqual([" - error DEPC2001", " - error DEPC2003", " - error DEPC2004"]);
  });
});

describe("the catalogue", () => {
  it("every code is shown in some test (an untested message is a message nobody has read)", () => {
    // Tests live in test/ and in each kind's folder. This test's own text names no code: it would count as a test of all of them.
    const texts = ["test", "kinds"]
      .flatMap((dir) => readdirSync(join(repoRoot, dir), { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile() && /\.test\.ts$/.test(e.name))
      .map((e) => readFileSync(join(e.parentPath, e.name), "utf8").split('describe("the catalogue"')[0])
      .join("\n");
    const untested = Object.values(messages)
      .map((m) => `DEPC${m.code}`)
      .filter((code) => !new RegExp(`${code}(?!\\d)`).test(texts));
    expect(untested).toEqual([]);
  });
});
