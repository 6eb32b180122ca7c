/**
 * Service (systemd), compiler side: one test per diagnostic with the exact
 * text a user sees, the unit file rendered from typed fields (systemd's
 * quoting and escaping), and the lowering to depc_service. Its behaviour on
 * a real systemd host is test/e2e/service.test.ts.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { environment, File, Service, type Resource } from "../../model/index.js";
import { environmentLine, execWord } from "./compile.js";
import { compileValue } from "../../test/support/inmemory.js";
import { compileFiles } from "../../test/support/project.js";
import { requireTool } from "../../test/support/shells.js";

const header = `import { environment, File, Service } from "depc";\n`;

async function printed(call: string): Promise<string> {
  const result = await compileFiles({ "env/prod.ts": `${header}export default environment({ hosts: { web1: [\n  ${call},\n] } });\n` });
  expect(result.ok).toBe(false);
  return result.printed;
}

/** The unit file a Service renders (its content function's heredoc). */
function unitOf(service: ReturnType<typeof Service>, ...others: Resource[]): string {
  const bundle = compileValue(environment({ hosts: { h: [...others, service] } })).bundles!.get("h")!;
  const n = others.length + 1;
  const m = new RegExp(`^depc_content_${n}\\(\\) \\{\\n  cat <<'DEPC_EOF'\\n([\\s\\S]*?)DEPC_EOF\\n\\}`, "m").exec(bundle);
  if (!m) throw new Error(`no content function ${n} in:\n${bundle}`);
  return m[1]!;
}

describe("Service diagnostics", () => {
  const cases: [string, string, string][] = [
    ["DEPC2200", `Service({ name: "web app", execStart: "/bin/true" })`, 'Service name "web app" cannot be used: it may only contain letters, digits and : _ . \\ @ - (starting with a letter, digit or _).'],
    ["DEPC2200", `Service({ name: "-web", execStart: "/bin/true" })`, 'Service name "-web" cannot be used: it may only contain letters, digits and : _ . \\ @ - (starting with a letter, digit or _).'],
    ["DEPC2200", `Service({ name: "backup.timer", execStart: "/bin/true" })`, 'Service name "backup.timer" cannot be used: it names a .timer unit; Service manages .service units.'],
    ["DEPC2200", `Service({ name: "web@", execStart: "/bin/true" })`, 'Service name "web@" cannot be used: a template unit cannot run by itself: name an instance, such as "web@1".'],
    ["DEPC2200", `Service({ name: "", execStart: "/bin/true" })`, 'Service name "" cannot be used: it must be a unit name like "web" or "web.service".'],
    ["DEPC2201", `Service({ name: "web" } as any)`, 'Service "web.service" needs `unit` (the whole unit file) or `execStart` (a unit written from typed fields).'],
    ["DEPC2202", `Service({ name: "web", unit: "[Service]\\nExecStart=/bin/true\\n", enabled: false, user: "app", after: ["network.target"] } as any)`, 'Service "web.service": `unit` is the whole unit file, so user, unit names in after cannot be given too; write them into the unit.'],
    ["DEPC2203", `Service({ name: "web", unit: " \\n" })`, 'Service "web.service": the unit is empty.'],
    ["DEPC2204", `Service({ name: "web", unit: "[Service]\\nExecStart=/bin/true\\n" })`, 'Service "web.service" is enabled, but its unit has no [Install] section with WantedBy=, RequiredBy=, UpheldBy= or Alias=, so `systemctl enable` cannot hook it in anywhere: add one (WantedBy=multi-user.target), or set enabled: false.'],
    ["DEPC2204", `Service({ name: "web", execStart: "/bin/true", wantedBy: [] })`, 'Service "web.service" is enabled, but wantedBy is empty, so `systemctl enable` cannot hook it in anywhere: name a target in wantedBy (such as "multi-user.target"), or set enabled: false.'],
    ["DEPC2205", `Service({ name: "web", execStart: "app --port $PORT" })`, 'Service "web.service": execStart uses $PORT: variables are not expanded; pass env or an argv list.'],
    ["DEPC2205", `Service({ name: "web", execStart: "app > /var/log/app.log" })`, 'Service "web.service": execStart contains the shell operator ">": depc runs one program, not a shell; use an argv list, or ["sh", "-c", script] deliberately.'],
    ["DEPC2205", `Service({ name: "web", execStart: ["+/usr/bin/app"] })`, `Service "web.service": execStart starts with '+' ("+/usr/bin/app"), which systemd reads as a prefix, not a program.`],
    ["DEPC2205", `Service({ name: "web", execStart: ["bin/app"] })`, 'Service "web.service": execStart runs "bin/app": systemd needs an absolute path or a bare program name.'],
    ["DEPC2205", `Service({ name: "web", execStart: ["/bin/app", "a\\nb"] })`, 'Service "web.service": execStart has an argument that contains a newline: a unit file setting is one line ("a\\nb").'],
    ["DEPC2206", `Service({ name: "web", execStart: "/bin/true", description: "two\\nlines" })`, 'Service "web.service": description "two\\nlines" contains a newline: a unit file setting is one line.'],
    ["DEPC2206", `Service({ name: "web", execStart: "/bin/true", description: "ends with \\\\" })`, 'Service "web.service": description "ends with \\\\" ends with a backslash, which systemd reads as a line continuation.'],
    ["DEPC2207", `Service({ name: "web", execStart: "/bin/true", after: ["network online"] })`, 'Service "web.service": after "network online" is not a unit name (like "network-online.target" or "db.service").'],
    ["DEPC2207", `Service({ name: "web", execStart: "/bin/true", wantedBy: "multi-user" })`, 'Service "web.service": wantedBy "multi-user" is not a unit name (like "network-online.target" or "db.service").'],
    ["DEPC2208", `Service({ name: "web", execStart: "/bin/true", environment: { "APP-PORT": "1" } })`, 'Service "web.service": environment variable "APP-PORT" is not a valid name.'],
    ["DEPC2208", `Service({ name: "web", execStart: "/bin/true", environment: { KEY: "a\\nb" } })`, 'Service "web.service": environment variable "KEY" contains a newline: a unit file setting is one line.'],
    ["DEPC2209", `Service({ name: "web", execStart: "/bin/true", extra: { service: { LimitNOFILE: 1 } } })`, 'Service "web.service": extra section "service" is not a unit file section: use Unit, Service, Install or an X- section.'],
    ["DEPC2210", `Service({ name: "web", execStart: "/bin/true", extra: { Service: { ExecStart: "/bin/false" } } })`, 'Service "web.service": extra Service.ExecStart is written by the typed field `execStart`; use that.'],
    ["DEPC2210", `Service({ name: "web", execStart: "/bin/true", extra: { Service: { "Limit NOFILE": 1 } } })`, 'Service "web.service": extra Service.Limit NOFILE is not a setting name (letters and digits, starting with a letter).'],
    ["DEPC2210", `Service({ name: "web", execStart: "/bin/true", extra: { Service: { ExecStartPre: ["/bin/a", "/bin/b\\nc"] } } })`, 'Service "web.service": extra Service.ExecStartPre value "/bin/b\\nc" contains a newline: a unit file setting is one line.'],
    ["DEPC2211", `Service({ name: "web", execStart: "/bin/true", restart: "sometimes" as any })`, 'Service "web.service": restart must be one of no, on-success, on-failure, on-abnormal, on-watchdog, on-abort, always, not "sometimes".'],
    ["DEPC2211", `Service({ name: "web", execStart: "/bin/true", enabled: "yes" as any })`, 'Service "web.service": enabled must be true or false, not "yes".'],
    ["DEPC2007", `Service({ name: "web", execStart: "/bin/true", user: "app; rm -rf /" })`, 'Service "web.service": user "app; rm -rf /" is not a valid user or group (a name like www-data, or a numeric id).'],
    ["DEPC2001", `Service({ name: "web", execStart: "/bin/true", workingDirectory: "srv/app" })`, 'Service workingDirectory path must be absolute: "srv/app"'],
  ];
  for (const [code, call, message] of cases) {
    it(`${code}: ${message}`, async () => {
      const out = await printed(call);
      expect(out).toBe(`env/prod.ts:3:3 - error ${code}: ${message}\n\n3   ${call},\n    ${"~".repeat(call.indexOf("("))}\n\n`);
    });
  }

  it("giving both `unit` and typed fields is a type error first", async () => {
    const out = await printed(`Service({ name: "web", unit: "[Service]\\n", execStart: "/bin/true" })`);
    expect(out).toMatch(/^env\/prod\.ts:3:\d+ - error TS2\d+: /);
  });

  it("an unknown restart policy is a type error first", async () => {
    const out = await printed(`Service({ name: "web", execStart: "/bin/true", restart: "sometimes" })`);
    expect(out).toMatch(/^env\/prod\.ts:3:\d+ - error TS2322: Type '"sometimes"' is not assignable to type 'RestartPolicy/);
  });

  it("every problem of one service is reported at once", async () => {
    const out = await printed(
      `Service({ name: "web", execStart: "a | b", description: "x\\ny", environment: { "1": "v" }, after: ["nope"], extra: { Bogus: {} } })`,
    );
    expect(out.match(/ - error DEPC22\d\d/g)).toEqual([" - error DEPC2205", " - error DEPC2206", " - error DEPC2207", " - error DEPC2208", " - error DEPC2209"].sort());
  });

  it("the same unit declared twice on a host", async () => {
    const result = await compileFiles({
      "env/prod.ts": `${header}export default environment({ hosts: { web1: [\n  Service({ name: "web", execStart: "/bin/a" }),\n  Service({ name: "web.service", execStart: "/bin/b" }),\n] } });\n`,
    });
    expect(result.printed).toContain('env/prod.ts:4:3 - error DEPC2005: "web.service" is declared twice on host "web1": as service here and as service elsewhere.\n');
  });
});

describe("Service types", () => {
  it("a typical model type-checks and builds: typed fields, a Service and a unit name in after, whenChanged, a whole unit", async () => {
    const result = await compileFiles({
      "env/prod.ts":
        header +
        `const settings = File({ path: "/srv/app/settings.ini", content: "port = 8000\\n" });
const db = Service({ name: "db", unit: "[Service]\\nExecStart=/usr/bin/db\\n[Install]\\nWantedBy=multi-user.target\\n", reload: true });
const app = Service({
  name: "app",
  execStart: "/srv/app/venv/bin/gunicorn --bind 127.0.0.1:8000 app:wsgi",
  user: "app",
  environment: { PYTHONUNBUFFERED: "1" },
  after: [db, "network-online.target", settings],
  wants: [db],
  whenChanged: [settings],
  extra: { Service: { LimitNOFILE: 65536, NoNewPrivileges: true } },
});
export default environment({ hosts: { web1: [settings, db, app] } });
`,
    });
    expect(result.printed).toBe("");
    expect(result.ok).toBe(true);
    const bundle = result.bundles!.get("web1")!;
    expect(bundle).toMatch(/# \[1\] file \/srv\/app\/settings\.ini \(env\/prod\.ts:2:18\)/);
    expect(bundle).toMatch(/# \[2\] service db\.service \(env\/prod\.ts:3:12\)/);
    expect(bundle).toMatch(/# \[3\] service app\.service \(env\/prod\.ts:4:13\)/);
    expect(bundle).toContain("After=db.service network-online.target\n");
  });
});

describe("Service unit rendering (typed fields)", () => {
  it("writes a unit with defaults: Description, Type=exec, Restart=on-failure, WantedBy=multi-user.target", () => {
    expect(unitOf(Service({ name: "web", execStart: "/usr/bin/app --port 8080" }))).toBe(
      [
        "# Written by depc from the deployment model: edits here are overwritten by the next run.",
        "[Unit]",
        "Description=web.service",
        "",
        "[Service]",
        "Type=exec",
        "ExecStart=/usr/bin/app --port 8080",
        "Restart=on-failure",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
      ].join("\n"),
    );
  });

  it("writes every typed field, services in after/wants by their unit names, extra sections in order", () => {
    const db = Service({ name: "db", execStart: ["/usr/bin/db"] });
    const conf = File({ path: "/etc/web.conf", content: "x\n" });
    const web = Service({
      name: "web.service",
      description: "Web app: 100% uptime",
      execStart: ["/srv/venv/bin/gunicorn", "--bind", "127.0.0.1:8000", "app:wsgi"],
      type: "notify",
      user: "app",
      group: 1001,
      environment: { PYTHONUNBUFFERED: "1", DJANGO_SETTINGS_MODULE: "site.settings" },
      workingDirectory: "/srv/app dir",
      restart: "always",
      after: ["network-online.target", db, conf],
      wants: ["network-online.target", db],
      wantedBy: ["multi-user.target", "graphical.target"],
      extra: { Service: { LimitNOFILE: 65536, NoNewPrivileges: true, ExecStartPre: ["/bin/a", "/bin/b %n"] }, "X-Depc": { Note: "hi" }, Unit: { StartLimitBurst: 3 } },
    });
    expect(unitOf(web, db, conf)).toBe(
      [
        "# Written by depc from the deployment model: edits here are overwritten by the next run.",
        "[Unit]",
        "Description=Web app: 100%% uptime",
        "After=network-online.target db.service",
        "Wants=network-online.target db.service",
        "StartLimitBurst=3",
        "",
        "[Service]",
        "Type=notify",
        "ExecStart=/srv/venv/bin/gunicorn --bind 127.0.0.1:8000 app:wsgi",
        "User=app",
        "Group=1001",
        "WorkingDirectory=/srv/app dir",
        'Environment="DJANGO_SETTINGS_MODULE=site.settings"',
        'Environment="PYTHONUNBUFFERED=1"',
        "Restart=always",
        "LimitNOFILE=65536",
        "NoNewPrivileges=yes",
        "ExecStartPre=/bin/a",
        "ExecStartPre=/bin/b %n",
        "",
        "[Install]",
        "WantedBy=multi-user.target graphical.target",
        "",
        "[X-Depc]",
        "Note=hi",
        "",
      ].join("\n"),
    );
  });

  it("writes no [Install] section for wantedBy: [] with enabled: false", () => {
    expect(unitOf(Service({ name: "once", execStart: ["/bin/true"], type: "oneshot", wantedBy: [], enabled: false, running: false }))).not.toContain("[Install]");
  });

  it("ExecStart words: %% for %, $$ for $, double quotes with \\\\ and \\\" for everything else", () => {
    expect(execWord("/usr/bin/app")).toBe("/usr/bin/app");
    expect(execWord("100%")).toBe("100%%");
    expect(execWord("$HOME")).toBe("$$HOME");
    expect(execWord("${HOME}")).toBe('"$${HOME}"');
    expect(execWord("")).toBe('""');
    expect(execWord(";")).toBe('";"');
    expect(execWord("two words")).toBe('"two words"');
    expect(execWord('say "hi"')).toBe('"say \\"hi\\""');
    expect(execWord("back\\slash\\")).toBe('"back\\\\slash\\\\"');
    expect(execWord("'q'")).toBe(`"'q'"`);
  });

  it("Environment lines: quoted whole, %% for %, \\\\ and \\\" inside, $ left alone (systemd does not expand it there)", () => {
    expect(environmentLine("A", 'x "y" \\ 100% $HOME')).toBe('Environment="A=x \\"y\\" \\\\ 100%% $HOME"');
  });

  it("a unit given whole is written byte for byte", () => {
    const text = "[Unit]\nDescription=mine %n\n\n[Service]\nExecStart=/bin/sleep 1000\n\n[Install]\nWantedBy=multi-user.target\n";
    expect(unitOf(Service({ name: "mine", unit: text }))).toBe(text);
  });
});

describe("Service lowering", () => {
  it("is one depc_service call: owed reaction, unit name, digest, content, enabled, running, reload; a File in whenChanged owes its restart", () => {
    const conf = File({ path: "/etc/web.conf", content: "x\n" });
    const bundle = compileValue(environment({ hosts: { h: [Service({ name: "web", execStart: ["/bin/app"], reload: true, running: false, whenChanged: [conf] }), conf] } })).bundles!.get("h")!;
    expect(bundle).toMatch(/^ {2}# \[1\] file \/etc\/web\.conf /m);
    expect(bundle).toMatch(/^ {2}depc_step 2 service 'web\.service' depc_service 'service:web\.service' 'web\.service' '[0-9a-f]{64}' depc_content_2 '1' '0' '1' '3'$/m);
    expect(bundle).toContain("    1) depc_owe 'service:web.service' ;;\n");
    expect(bundle).toMatch(/^depc_service\(\) \{$/m);
    expect(bundle).toMatch(/^depc_service_show\(\) \{$/m);
  });

  it.skipIf(!requireTool("shellcheck"))("an emitted bundle with services (typed and whole-unit, notified) is shellcheck-clean", () => {
    const conf = File({ path: "/etc/web.conf", content: "x\n" });
    const bundle = compileValue(
      environment({
        hosts: {
          h: [
            conf,
            Service({ name: "web", execStart: ["/bin/app", "$x", "100%"], environment: { A: "'b'" }, whenChanged: [conf] }),
            Service({ name: "mine", unit: "[Service]\nExecStart=/bin/sleep 9\n", enabled: false, reload: true }),
          ],
        },
      }),
    ).bundles!.get("h")!;
    const dir = mkdtempSync(join(tmpdir(), "depc-service-sc-"));
    try {
      writeFileSync(join(dir, "h.sh"), bundle);
      const r = spawnSync("shellcheck", ["-s", "sh", join(dir, "h.sh")], { encoding: "utf8" });
      expect(r.stdout + r.stderr).toBe("");
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
