import { describe, expect, it } from "vitest";
import { compileFiles } from "../../test/support/project.js";

// One test per health-check diagnostic, each asserting the exact text a user
// sees (type-checked like a real project: `depc build`), on HealthCheck,
// Program's and Service's `health` and `stableSeconds`.
const header = `import { environment, HealthCheck, Program, Service, Supervisor } from "depc";\nconst sup = Supervisor({ flavour: "user", base: "/srv/app/supervisor" });\n`;

async function printed(call: string): Promise<string> {
  const result = await compileFiles({ "env/prod.ts": `${header}export default environment({ hosts: { web1: [sup,\n  ${call},\n] } });\n` });
  expect(result.ok).toBe(false);
  expect(result.bundles).toBeUndefined();
  return result.printed;
}

const P = (health: string) => `Program({ supervisor: sup, name: "web", command: ["/srv/app/bin/web"], ${health} })`;
const H = (rest: string) => `HealthCheck({ name: "api", ${rest} })`;
const S = (rest: string) => `Service({ name: "web", execStart: ["/srv/app/bin/web"], ${rest} })`;

describe("health check diagnostics", () => {
  const cases: [string, string, string][] = [
    ["DEPC2470", P(`health: "http://127.0.0.1/" as any`), 'Program "web": health must be an object like { http: { url: "http://127.0.0.1:8000/" } }, not "http://127.0.0.1/".'],
    ["DEPC2471", `HealthCheck({ name: "api" })`, 'HealthCheck "api": a health check needs exactly one of http, tcp or command; it has none.'],
    ["DEPC2471", H(`http: { url: "http://127.0.0.1/" }, tcp: { port: 80 }`), 'HealthCheck "api": a health check needs exactly one of http, tcp or command; it has http and tcp.'],
    ["DEPC2472", P(`health: { http: { url: "http://127.0.0.1/" }, retry: 3 } as any`), 'Program "web": a health check has no field "retry"; its fields are http, tcp, command, retries, interval and timeout.'],
    ["DEPC2473", H(`http: { url: "ftp://files.example.org/" }`), 'HealthCheck "api": health http url "ftp://files.example.org/" must start with http:// or https://.'],
    ["DEPC2473", H(`http: { url: "http://127.0.0.1/a page" }`), 'HealthCheck "api": health http url "http://127.0.0.1/a page" has characters a URL cannot hold as they are (spaces, quotes, control or non-ASCII characters): percent-encode them.'],
    ["DEPC2473", H(`http: { url: "http:///health" }`), 'HealthCheck "api": health http url "http:///health" has no host.'],
    ["DEPC2474", H(`http: { url: "http://127.0.0.1/", status: 700 }`), 'HealthCheck "api": health http status 700 is not an HTTP status code (a whole number from 100 to 599).'],
    ["DEPC2475", H(`http: { url: "http://127.0.0.1/", body: "ok\\nready" }`), 'HealthCheck "api": health http body "ok\\nready" must be one line without control characters.'],
    ["DEPC2475", H(`http: { url: "http://127.0.0.1/", body: "" }`), 'HealthCheck "api": health http body "" must not be empty (leave it out to accept any body).'],
    ["DEPC2476", H(`tcp: { port: 70000 }`), 'HealthCheck "api": health tcp port 70000 is not a port number (a whole number from 1 to 65535).'],
    ["DEPC2476", S(`health: { tcp: { port: 0 } }`), 'Service "web.service": health tcp port 0 is not a port number (a whole number from 1 to 65535).'],
    ["DEPC2477", H(`tcp: { host: "db host", port: 5432 }`), 'HealthCheck "api": health tcp host "db host" is not a host name or an IP address.'],
    ["DEPC2478", H(`command: "curl -s localhost | grep ok"`), 'HealthCheck "api": health command contains the shell operator "|": the health check runs one program, not a shell; use an argv list, or ["sh", "-c", script] deliberately.'],
    ["DEPC2478", H(`command: "check --url $URL"`), 'HealthCheck "api": health command uses $URL: variables are not expanded; use an argv list.'],
    ["DEPC2479", P(`health: { tcp: { port: 8000 }, retries: 0 }`), 'Program "web": health retries 0 is not a whole number from 1 to 1000.'],
    ["DEPC2479", H(`tcp: { port: 8000 }, timeout: 0.5`), 'HealthCheck "api": health timeout 0.5 is not a whole number from 1 to 3600.'],
    ["DEPC2479", S(`health: { tcp: { port: 8000 }, interval: -1 }`), 'Service "web.service": health interval -1 is not a whole number from 0 to 3600.'],
    ["DEPC2480", `HealthCheck({ name: "my check", tcp: { port: 80 } })`, 'HealthCheck name "my check" cannot be used: it must match [A-Za-z0-9][A-Za-z0-9._-]* (it names the check in reports).'],
    ["DEPC2481", P(`stableSeconds: 1.5`), 'Program "web": stableSeconds 1.5 is not a whole number of seconds from 0 to 600.'],
    ["DEPC2481", S(`stableSeconds: 3600`), 'Service "web.service": stableSeconds 3600 is not a whole number of seconds from 0 to 600.'],
  ];
  for (const [code, call, message] of cases) {
    it(`${code}: ${message}`, async () => {
      const out = await printed(call);
      expect(out).toBe(`env/prod.ts:4:3 - error ${code}: ${message}\n\n4   ${call},\n    ${"~".repeat(call.indexOf("("))}\n\n`);
    });
  }

  it("two HealthChecks of one name on a host collide (DEPC2005); the same name on another host does not", async () => {
    const result = await compileFiles({
      "env/prod.ts": `${header}export default environment({ hosts: { web1: [\n  HealthCheck({ name: "api", tcp: { port: 80 } }),\n  HealthCheck({ name: "api", tcp: { port: 81 } }),\n], web2: [HealthCheck({ name: "api", tcp: { port: 80 } })] } });\n`,
    });
    expect(result.ok).toBe(false);
    expect(result.printed).toContain("error DEPC2005");
    expect(result.printed).toContain('"api"');
  });

  it("lowers a check to depc_health's words: defaults, quoted URL and body, a command as a run function", async () => {
    const result = await compileFiles({
      "env/prod.ts": `${header}export default environment({ hosts: { web1: [sup,\n  Program({ supervisor: sup, name: "web", command: ["/srv/app/bin/web"], health: { http: { url: "http://127.0.0.1:8000/health?x=1&y='2'", body: "it's ok" } } }),\n  HealthCheck({ name: "db", tcp: { port: 5432 }, retries: 3, interval: 2, timeout: 1 }),\n  HealthCheck({ name: "q", command: ["/usr/bin/q-ping", "--quiet"] }),\n] } });\n`,
    });
    expect(result.ok, result.printed).toBe(true);
    const bundle = result.bundles!.get("web1")!;
    expect(bundle).toContain(`depc_supervisor_program 'program:/srv/app/supervisor/conf.d/web.conf' 'web' '/srv/app/supervisor/conf.d/web.conf'`);
    expect(bundle).toContain(` '1' '16' '' '3' 'http' '10' '1' '5' 'http://127.0.0.1:8000/health?x=1&y='\\''2'\\''' '200' 'it'\\''s ok'\n`);
    expect(bundle).toContain(`depc_step 3 healthcheck 'db' depc_healthcheck 'db' 'TCP connect to 127.0.0.1:5432' 'tcp' '3' '2' '1' '127.0.0.1' '5432'\n`);
    expect(bundle).toContain(`depc_step 4 healthcheck 'q' depc_healthcheck 'q' '/usr/bin/q-ping --quiet exits 0' 'command' '10' '1' '5' '/usr/bin/q-ping --quiet' depc_run_4_1\n`);
    expect(bundle).toContain(`depc_run_4_1() ( cd -- '/' && exec "$@" '/usr/bin/q-ping' '--quiet' )`);
  });
});
