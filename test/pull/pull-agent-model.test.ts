/**
 * The standard library's PullAgent: the resources it makes on a host (the
 * agent script, its config, the publisher's key, a Timer or a CronJob, age),
 * compiled by the real compiler; and its option diagnostics, with file and
 * line, from a real project (the type-check and the loader: `npm run build`
 * first, the project imports depc's dist/).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { modelOf } from "../../compiler/evaluate/evaluate.js";
import { environment, PullAgent, type PullAgentOptions } from "../../model/index.js";
import { AGENT } from "./support.js";
import { compileValue } from "../support/inmemory.js";
import { compileFiles, repoRoot } from "../support/project.js";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOaHqKg1PSaSJX28ZtnCO4qP7Qx1PNVXJXKEhCcHL9ak publisher@ci";
const STORE = "https://deploy.example.com/prod/";

function resourcesOf(options: PullAgentOptions) {
  const model = modelOf(environment({ hosts: { web1: [PullAgent(options)] } }), { defaultName: "prod" });
  if (!model.ok) throw new Error(JSON.stringify(model.diagnostics));
  return model.environment.hosts[0]!.resources.map((r): Record<string, unknown> => ({ kind: r.kind, ...r.props }));
}

describe("PullAgent", () => {
  it("installs the agent, its config and the publisher's key, and runs it from a systemd timer every 300 s with a 300 s splay", () => {
    const resources = resourcesOf({ store: STORE, publisherKey: KEY });
    expect(resources).toEqual([
      { kind: "directory", path: "/usr/local/lib/depc", mode: 0o755 },
      { kind: "file", path: "/usr/local/lib/depc/pull-agent", content: readFileSync(AGENT, "utf8"), mode: 0o755 },
      { kind: "directory", path: "/etc/depc", mode: 0o755 },
      {
        kind: "file",
        path: "/etc/depc/pull-prod.allowed_signers",
        content: 'depc-publisher namespaces="depc-manifest" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOaHqKg1PSaSJX28ZtnCO4qP7Qx1PNVXJXKEhCcHL9ak\n',
        mode: 0o644,
      },
      {
        kind: "file",
        path: "/etc/depc/pull-prod.conf",
        content:
          "# depc pull agent of host web1 in environment prod (written by depc's PullAgent)\n" +
          "environment prod\nhost web1\nstore https://deploy.example.com/prod/\nsigners /etc/depc/pull-prod.allowed_signers\n" +
          "identity /etc/ssh/ssh_host_ed25519_key\nsplay 0\n",
        mode: 0o644,
      },
      {
        kind: "timer",
        name: "depc-pull-prod",
        description: "depc pull agent (environment prod)",
        onCalendar: "*-*-* *:00/5:00",
        command: ["/usr/local/lib/depc/pull-agent", "/etc/depc/pull-prod.conf"],
        randomizedDelaySec: 300,
        accuracySec: 30,
      },
    ]);
    // The compiler accepts all of it (kinds' validation, claims, order).
    const bundle = compileValue(environment({ hosts: { web1: [PullAgent({ store: STORE, publisherKey: KEY })] } }), "prod").bundles!.get("web1")!;
    expect(bundle).toContain("OnCalendar=*-*-* *:00/5:00");
    expect(bundle).toContain("RandomizedDelaySec=300s");
  });

  it("expresses periods of seconds, minutes, hours and a day as calendar expressions", () => {
    const calendar = (every: number) => resourcesOf({ store: STORE, publisherKey: KEY, every }).find((r) => r.kind === "timer")!;
    expect(calendar(5)).toMatchObject({ onCalendar: "*-*-* *:*:00/5", accuracySec: 1, randomizedDelaySec: 5 });
    expect(calendar(60)).toMatchObject({ onCalendar: "*-*-* *:00/1:00", accuracySec: 6 });
    expect(calendar(7200)).toMatchObject({ onCalendar: "*-*-* 00/2:00:00", accuracySec: 60 });
    expect(calendar(86400)).toMatchObject({ onCalendar: "*-*-* 00:00:00" });
  });

  it("with cron: one line in root's crontab, the splay done by the agent; age installed when it decrypts", () => {
    const resources = resourcesOf({ store: STORE, publisherKey: KEY, scheduler: "cron", every: 600, splay: 120, decrypt: true, identity: "/etc/ssh/ssh_host_rsa_key" });
    expect(resources.filter((r) => r.kind === "timer")).toEqual([]);
    expect(resources.find((r) => r.kind === "cronjob")).toEqual({
      kind: "cronjob",
      name: "depc-pull-prod",
      schedule: "*/10 * * * *",
      command: "/usr/local/lib/depc/pull-agent /etc/depc/pull-prod.conf",
    });
    expect(resources.find((r) => r.kind === "package")).toEqual({ kind: "package", name: "age" });
    expect(resources.find((r) => r.path === "/etc/depc/pull-prod.conf")!.content).toMatch(/\nidentity \/etc\/ssh\/ssh_host_rsa_key\nsplay 120\n$/);
    expect(resourcesOf({ store: STORE, publisherKey: KEY, scheduler: "cron", every: 3600 }).find((r) => r.kind === "cronjob")).toMatchObject({ schedule: "0 * * * *" });
  });

  it("ships the agent in the npm package", () => {
    const packed = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: repoRoot, encoding: "utf8" });
    expect(packed.status, packed.stderr).toBe(0);
    const files = (JSON.parse(packed.stdout) as { files: { path: string; mode: number }[] }[])[0]!.files;
    expect(files.find((f) => f.path === "stdlib/pull/pull-agent.sh")).toMatchObject({ mode: 0o755 });
  });

  const project = (options: string) => ({
    "env/prod.ts": `import { environment, PullAgent } from "depc";\n\nconst pull = PullAgent({\n  ${options}\n});\nexport default environment({ hosts: { web1: [pull] } });\n`,
  });
  const KEY_OPTION = `publisherKey: ${JSON.stringify(KEY)}`;

  it.each([
    [`store: "https://deploy.example.com/prod", ${KEY_OPTION}`, `DEPC4230: PullAgent store "https://deploy.example.com/prod" is not an http:// or https:// URL ending in '/': give the store's root, the agent fetches <store>latest from it.`],
    [`store: "s3://bucket/prod/", ${KEY_OPTION}`, `DEPC4230: PullAgent store "s3://bucket/prod/" is not an http:// or https:// URL ending in '/': give the store's root, the agent fetches <store>latest from it.`],
    [
      `store: "${STORE}", publisherKey: ${JSON.stringify(`${KEY}\n${KEY}`)}`,
      `DEPC4231: PullAgent publisherKey must be one ssh public key line as in the publisher key's .pub file ("ssh-ed25519 AAAA... comment"): it holds a line break or another control character (give exactly one key).`,
    ],
    [
      `store: "${STORE}", publisherKey: "SHA256:8Dgk2nq5/x publisher"`,
      `DEPC4231: PullAgent publisherKey must be one ssh public key line as in the publisher key's .pub file ("ssh-ed25519 AAAA... comment"): it starts with "SHA256:8Dgk2nq5/x", not a key type (ssh-ed25519, ssh-rsa, …).`,
    ],
    [
      `store: "${STORE}", publisherKey: ${JSON.stringify(KEY.replace("ssh-ed25519", "ssh-rsa"))}`,
      `DEPC4231: PullAgent publisherKey must be one ssh public key line as in the publisher key's .pub file ("ssh-ed25519 AAAA... comment"): the base64 key is not a ssh-rsa key.`,
    ],
    [`store: "${STORE}", ${KEY_OPTION}, every: 7`, `DEPC4232: PullAgent every 7 must divide a minute, an hour or a day evenly (5, 30, 300, 3600, …).`],
    [`store: "${STORE}", ${KEY_OPTION}, every: 30, scheduler: "cron"`, `DEPC4232: PullAgent every 30 must be whole minutes that divide an hour or a day evenly (60, 300, 3600, …) with cron.`],
    [`store: "${STORE}", ${KEY_OPTION}, splay: -1`, `DEPC4233: PullAgent splay -1 must be a whole number of seconds from 0 to 86400.`],
    [`store: "${STORE}", ${KEY_OPTION}, identity: "ssh_host_ed25519_key"`, `DEPC4233: PullAgent identity "ssh_host_ed25519_key" must be an absolute path on one line.`],
  ])("a bad option is a diagnostic at the user's call: %s", async (options, message) => {
    const result = await compileFiles(project(options));
    expect(result.ok).toBe(false);
    expect(result.printed.split("\n")[0]).toBe(`env/prod.ts:3:14 - error ${message}`);
  });
});
