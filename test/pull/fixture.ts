/**
 * The pull agent's test host: a sandbox state directory, a store served over
 * HTTP (support.ts) and the agent's config, with a publisher key, an intruder
 * key and the host's own ssh key made by ssh-keygen once per test file.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { requireTool, which, type Shell } from "../support/shells.js";
import { buildBundle } from "../runtime/bundle.js";
import { agentConfig, allowedSigners, logEvents, publish, runAgent, sshKey, storeServer, type Publication } from "./support.js";

export const base = mkdtempSync(join(tmpdir(), "depc-pull-agent-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

export const tools = requireTool("ssh-keygen") && requireTool("age") && requireTool("curl") && requireTool("wget");
const keys = join(base, "keys");
mkdirSync(keys, { recursive: true });
export const publisher = sshKey(keys, "publisher");
export const intruder = sshKey(keys, "intruder");
export const hostKey = sshKey(keys, "hostkey");

/** Programs busybox lacks, for busybox sh's PATH (it keeps busybox wget as its fetch tool). */
function extraTools(): string {
  const dir = join(base, "extra-tools");
  if (!existsSync(dir)) {
    mkdirSync(dir);
    for (const t of ["ssh-keygen", "age"]) symlinkSync(which(t)!, join(dir, t));
  }
  return dir;
}

/** The PATH an agent runs with under `shell`: busybox sh's own plus ssh-keygen and age; the others inherit ours. */
export const agentPath = (shell: Shell): string | undefined => (shell.env?.PATH !== undefined ? `${shell.env.PATH}:${extraTools()}` : undefined);

/** A host with its state dir, a store served over HTTP and the agent's config. */
export async function fixture(shell: Shell, label: string, settings: Record<string, string> = {}) {
  const dir = mkdtempSync(join(base, `${label}-${shell.name.replace(/\W+/g, "-")}-`));
  const store = join(dir, "store");
  mkdirSync(join(store, "reports"), { recursive: true });
  const server = await storeServer(store);
  const state = join(dir, "state");
  const signers = join(dir, "allowed_signers");
  writeFileSync(signers, allowedSigners(publisher.pub));
  const config = join(dir, "pull.conf");
  writeFileSync(config, agentConfig({ environment: "prod", host: "web1", store: server.url, signers, state, identity: hostKey.path, ...settings }));
  const marker = join(dir, "marker");
  const canPut = shell.env?.PATH === undefined;
  return {
    dir,
    store,
    server,
    state,
    config,
    marker,
    /** The bundle for web1 that writes `serial N` into the marker. */
    bundle: (n: number, env = "prod") => buildBundle({ env, host: "web1", resources: [{ kind: "file", path: marker, content: `serial ${n}\n` }] }),
    publish: (p: Partial<Publication> & { serial: number }, key = publisher.path) =>
      publish(store, key, { env: "prod", hosts: [{ name: "web1", bundle: buildBundle({ env: "prod", host: "web1", resources: [{ kind: "file", path: marker, content: `serial ${p.serial}\n` }] }) }], ...p }),
    run: (options: { killAfterMs?: number; path?: string } = {}) => runAgent(shell, config, { path: agentPath(shell), ...options }),
    events: () => (existsSync(join(state, "pull", "log")) ? logEvents(readFileSync(join(state, "pull", "log"), "utf8")) : []),
    markerText: () => (existsSync(marker) ? readFileSync(marker, "utf8") : undefined),
    applied: () => (existsSync(join(state, "pull", "serial")) ? readFileSync(join(state, "pull", "serial"), "utf8") : undefined),
    /** The report as the store has it (PUT), or the host's own copy under busybox wget. */
    report: () => {
      const path = canPut ? join(store, "reports", "web1") : join(state, "pull", "report");
      return existsSync(path) ? readFileSync(path, "utf8") : undefined;
    },
    /** Files under <state>/pull/ that only a run in progress has: temp files and the lock. */
    leftovers: () => readdirSync(join(state, "pull")).filter((f) => f.startsWith(".tmp.") || f === "lock" || f === "lock.break"),
    close: () => server.close(),
    canPut,
  };
}

