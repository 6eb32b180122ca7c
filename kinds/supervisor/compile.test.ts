import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileFiles } from "../../test/support/project.js";
import { requireTool } from "../../test/support/shells.js";

// One test per Supervisor/Program diagnostic, each asserting the exact text a
// user sees (type-checked like a real project: `depc build`).
const header = `import { environment, Supervisor, Program } from "depc";\nconst sup = Supervisor({ flavour: "user", base: "/srv/app/supervisor" });\n`;

async function printed(call: string): Promise<string> {
  const result = await compileFiles({ "env/prod.ts": `${header}export default environment({ hosts: { web1: [sup,\n  ${call},\n] } });\n` });
  expect(result.ok).toBe(false);
  expect(result.bundles).toBeUndefined();
  return result.printed;
}

const P = (rest: string) => `Program({ supervisor: sup, name: "web", command: ["/srv/app/bin/web"], ${rest} })`;
const long = `/srv/${"d".repeat(100)}`;

describe("Supervisor and Program diagnostics", () => {
  const cases: [string, string, string][] = [
    ["DEPC2150", `Supervisor({ flavour: "systemd" } as any)`, 'Supervisor flavour "systemd" is not "system" or "user".'],
    ["DEPC2151", `Supervisor({ flavour: "user", base: "${long}" })`, `Supervisor control socket "${long}/supervisor.sock" is 121 bytes long; a Unix socket path may have at most 107. Choose a shorter base.`],
    ["DEPC2152", `Supervisor({ flavour: "user", base: "/srv/my app" })`, 'Supervisor: base "/srv/my app" cannot be used in a supervisor config: it has characters other than letters, digits and _@+=:,./- (depc writes it into space-separated lists and URLs).'],
    ["DEPC2152", P(`directory: "/srv/a ;b"`), `Program "web": directory "/srv/a ;b" cannot be used in a supervisor config: it has whitespace followed by ';' or '#', which starts a comment in a supervisor config.`],
    ["DEPC2153", `Program({ supervisor: sup, name: "web:1", command: ["/bin/true"] })`, 'Program name "web:1" cannot be used: it must match [A-Za-z0-9][A-Za-z0-9._-]* (it names the supervisor program and its config file).'],
    ["DEPC2154", `Program({ supervisor: "main", name: "web", command: ["/bin/true"] } as any)`, 'Program "web": supervisor must be a resource made by Supervisor({...}), not "main".'],
    ["DEPC2155", `Program({ supervisor: sup, name: "web", command: "gunicorn app:wsgi > /tmp/log" })`, 'Program "web": command contains the shell operator ">": supervisord runs one program, not a shell; use an argv list, or ["sh", "-c", script] deliberately.'],
    ["DEPC2155", `Program({ supervisor: sup, name: "web", command: "gunicorn --bind $ADDR" })`, 'Program "web": command uses $ADDR: variables are not expanded; use environment or an argv list.'],
    ["DEPC2155", `Program({ supervisor: sup, name: "web", command: ["/bin/echo", "a\\nb"] })`, 'Program "web": command has the argument "a\\nb" with the control character U+000A, which a supervisor config cannot hold.'],
    ["DEPC2155", `Program({ supervisor: sup, name: "web", command: [] as any })`, 'Program "web": command is empty.'],
    ["DEPC2156", P(`environment: { "1X": "a" }`), 'Program "web": environment variable "1X" is not a valid name.'],
    ["DEPC2156", P(`environment: { Q: "it's \\"quoted\\" twice" }`), `Program "web": environment variable "Q" holds both ' and ", which supervisor cannot read back.`],
    ["DEPC2156", P(`environment: { Q: "'x'" }`), 'Program "web": environment variable "Q" starts or ends with a quote, which supervisor strips.'],
    ["DEPC2156", P(`environment: { Q: "a #b" }`), `Program "web": environment variable "Q" has whitespace followed by ';' or '#', which starts a comment in a supervisor config.`],
    ["DEPC2156", P(`environment: { Q: "%(here)s/x" }`), 'Program "web": environment variable "Q" contains (here)s, which supervisor replaces by a directory even after %%.'],
    ["DEPC2157", P(`options: { command: "/bin/sh" }`), 'Program "web": option "command" is set by depc or by a field of Program; use that field.'],
    ["DEPC2157", P(`options: { "stop signal": "INT" }`), 'Program "web": option "stop signal" is not a supervisor option name (lowercase letters, digits and _).'],
    ["DEPC2157", P(`options: { stopsignal: "INT\\nuser=root" }`), 'Program "web": option "stopsignal" contains the control character U+000A, which a supervisor config cannot hold.'],
    ["DEPC2158", P(`startsecs: 1.5`), 'Program "web": startsecs 1.5 is not a whole number of seconds from 0 to 3600.'],
    ["DEPC2159", P(`autostart: "yes" as any`), 'Program "web": autostart must be true or false, not "yes".'],
    ["DEPC2007", P(`user: "www data"`), 'Program "web": user "www data" is not a valid user or group (a name like www-data, or a numeric id).'],
  ];
  for (const [code, call, message] of cases) {
    it(`${code}: ${message}`, async () => {
      const out = await printed(call);
      expect(out).toBe(`env/prod.ts:4:3 - error ${code}: ${message}\n\n4   ${call},\n    ${"~".repeat(call.indexOf("("))}\n\n`);
    });
  }

  it("a Program whose Supervisor is not on its host names it", async () => {
    const result = await compileFiles({
      "env/prod.ts": `${header}export default environment({ hosts: { web1: [\n  Program({ supervisor: sup, name: "web", command: ["/bin/true"] }),\n] } });\n`,
    });
    expect(result.ok).toBe(false);
    expect(result.printed).toContain('env/prod.ts:4:3 - error DEPC4010: program "/srv/app/supervisor/conf.d/web.conf" (after) refers to supervisor "/srv/app/supervisor", which is not on host "web1".');
  });

  it("a program config is data: argv words are quoted for supervisor, never a second command", async () => {
    const result = await compileFiles({
      "env/prod.ts": `${header}export default environment({ hosts: { web1: [sup,\n  Program({ supervisor: sup, name: "web", command: ["/bin/echo", "a ;b", "100%", "it's"], environment: { A: "x;y", B: 'say "hi" now' }, options: { stopsignal: "INT", stopwaitsecs: 30 } }),\n] } });\n`,
    });
    expect(result.ok, result.printed).toBe(true);
    const bundle = result.bundles!.get("web1")!;
    expect(bundle).toContain(
      [
        "; written by depc",
        "[program:web]",
        "command = /bin/echo 'a '\\;'b' '100%%' 'it'\\''s'",
        `environment = A="x;y",B='say "hi" now'`,
        "autostart = true",
        "stopasgroup = false",
        "killasgroup = false",
        "startsecs = 1",
        "redirect_stderr = true",
        "stdout_logfile = /srv/app/supervisor/logs/web.log",
        "stopsignal = INT",
        "stopwaitsecs = 30",
        "",
      ].join("\n"),
    );
  });

  it.runIf(requireTool("shellcheck"))("a bundle with both flavours and programs is shellcheck-clean (no exclusions)", async () => {
    const result = await compileFiles({
      "env/prod.ts": `${header}const system = Supervisor({ flavour: "system" });\nexport default environment({ hosts: { web1: [sup, system,\n  Program({ supervisor: sup, name: "web", command: "bin/web --port 8080", whenChanged: [system] }),\n  Program({ supervisor: system, name: "worker", command: ["/srv/app/bin/worker"], autostart: false }),\n] } });\n`,
    });
    expect(result.ok, result.printed).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "depc-sv-sc-"));
    try {
      writeFileSync(join(dir, "web1.sh"), result.bundles!.get("web1")!);
      const r = spawnSync("shellcheck", ["-s", "sh", join(dir, "web1.sh")], { encoding: "utf8" });
      expect(r.stdout + r.stderr).toBe("");
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
