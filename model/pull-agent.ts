// The standard library's pull agent (issue 15): a component that installs
// stdlib/pull/pull-agent.sh, its config and the publisher's key on a host,
// and runs it on a schedule (a systemd Timer, or a CronJob).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { component, type Component } from "./component.js";
import { hasBrand } from "./private/brand.js";
import { CronJob } from "../kinds/cron/cron.js";
import { Directory } from "../kinds/directory/directory.js";
import { File } from "../kinds/file/file.js";
import { Package } from "../kinds/package/package.js";
import { Timer } from "../kinds/timer/timer.js";

/** Options of {@link PullAgent}. */
export interface PullAgentOptions {
  /**
   * The store's root URL, http:// or https://, ending in `/`: the agent
   * fetches `<store>latest`, `<store>manifests/<serial>`, … and PUTs its
   * report to `<store>reports/<host>` (docs/pull.md).
   */
  readonly store: string;
  /**
   * The publisher's ssh public key, one line as in its `.pub` file
   * (`"ssh-ed25519 AAAA… comment"`): the key `depc publish --sign-key`
   * signs manifests with. Written into the agent's allowed_signers file.
   */
  readonly publisherKey: string;
  /**
   * Seconds between two runs. With systemd it must divide a minute, an hour
   * or a day evenly (5, 30, 300, 3600, …); with cron it is whole minutes
   * that divide an hour or a day (60, 300, 3600, …).
   * @default 300
   */
  readonly every?: number;
  /**
   * Each run starts after a random delay of up to this many seconds, so that
   * a fleet does not fetch at once (systemd: `RandomizedDelaySec=`; cron:
   * the agent sleeps).
   * @default every
   */
  readonly splay?: number;
  /**
   * What runs the agent: a systemd timer (`depc-pull-<env>.timer`) or a line
   * in root's crontab (hosts without systemd).
   * @default "systemd"
   */
  readonly scheduler?: "systemd" | "cron";
  /**
   * Install Debian's `age` (a Package) so that the agent can decrypt the
   * bundles `depc publish` encrypted to this host's ssh key (bundles that
   * hold secrets).
   * @default false
   */
  readonly decrypt?: boolean;
  /**
   * The private key age decrypts with: the host's own ssh host key, whose
   * public half `depc publish` encrypted to.
   * @default "/etc/ssh/ssh_host_ed25519_key"
   */
  readonly identity?: string;
}

/** Where the agent and its files go on a host. */
export const PULL_AGENT_PATH = "/usr/local/lib/depc/pull-agent";
export const PULL_CONFIG_DIR = "/etc/depc";

const PULL_AGENT_OPTION = Symbol.for("depc.pull-agent-option");

/** The diagnostics of PullAgent's options (the compiler's catalogue: DEPC4230–4233). */
export type PullAgentProblem =
  | { readonly id: "pullAgentStore"; readonly args: { readonly value: string } }
  | { readonly id: "pullAgentPublisherKey"; readonly args: { readonly problem: string } }
  | { readonly id: "pullAgentEvery"; readonly args: { readonly field: string; readonly value: string; readonly problem: string } }
  | { readonly id: "pullAgentOption"; readonly args: { readonly field: string; readonly value: string; readonly problem: string } };

/** Thrown by {@link PullAgent} for a bad option; the compiler reports it at the user's call as a diagnostic. */
export class PullAgentOptionError extends Error {
  readonly [PULL_AGENT_OPTION]: true = true;
  constructor(readonly problem: PullAgentProblem) {
    super(`PullAgent: ${problem.id} ${JSON.stringify(problem.args)}`);
    this.name = "PullAgentOptionError";
  }
}

export function isPullAgentOptionError(value: unknown): value is PullAgentOptionError {
  return hasBrand(value, PULL_AGENT_OPTION);
}

const show = (value: unknown): string => (typeof value === "string" ? JSON.stringify(value) : String(value));

const KEY_TYPES = ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"];

/** The key's type and base64 blob (the comment is dropped), or throws. */
function publisherKey(value: unknown): string {
  const fail = (problem: string): never => {
    throw new PullAgentOptionError({ id: "pullAgentPublisherKey", args: { problem } });
  };
  if (typeof value !== "string") return fail(`got ${show(value)}`);
  if (/[\u0000-\u001f\u007f]/.test(value.trim())) return fail("it holds a line break or another control character (give exactly one key)");
  const [type, blob] = value.trim().split(/ +/);
  if (type === undefined || !KEY_TYPES.includes(type)) return fail(`it starts with ${show(type ?? "")}, not a key type (${KEY_TYPES.slice(0, 2).join(", ")}, …)`);
  if (blob === undefined || !/^[A-Za-z0-9+/]+={0,3}$/.test(blob)) return fail("the base64 key after the type is missing or not base64");
  // The blob starts with its own type (an SSH string): a key pasted with the wrong type line is caught here.
  const bytes = Buffer.from(blob, "base64");
  const length = bytes.length >= 4 ? bytes.readUInt32BE(0) : -1;
  if (length !== type.length || bytes.subarray(4, 4 + length).toString("latin1") !== type) return fail(`the base64 key is not a ${type} key`);
  return `${type} ${blob}`;
}

function store(value: unknown): string {
  if (typeof value === "string" && /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?\/$/.test(value) && !/[\u0000-\u001f\u007f]/.test(value)) return value;
  throw new PullAgentOptionError({ id: "pullAgentStore", args: { value: show(value) } });
}

function seconds(field: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= 86400) return value;
  throw new PullAgentOptionError({ id: "pullAgentOption", args: { field, value: show(value), problem: `must be a whole number of seconds from ${min} to 86400` } });
}

/** The systemd calendar expression of a period that divides a minute, an hour or a day. */
function calendarOf(every: number): string | undefined {
  if (every < 60 && 60 % every === 0) return `*-*-* *:*:00/${every}`;
  if (every % 60 === 0 && every < 3600 && 3600 % every === 0) return `*-*-* *:00/${every / 60}:00`;
  if (every % 3600 === 0 && every < 86400 && 86400 % every === 0) return `*-*-* 00/${every / 3600}:00:00`;
  if (every === 86400) return "*-*-* 00:00:00";
  return undefined;
}

/** The crontab schedule of a period of whole minutes that divide an hour or a day. */
function cronOf(every: number): string | undefined {
  if (every % 60 !== 0) return undefined;
  const minutes = every / 60;
  if (minutes < 60 && 60 % minutes === 0) return minutes === 1 ? "* * * * *" : `*/${minutes} * * * *`;
  if (minutes % 60 === 0 && minutes < 1440 && 1440 % minutes === 0) return minutes === 60 ? "0 * * * *" : `0 */${minutes / 60} * * *`;
  if (minutes === 1440) return "0 0 * * *";
  return undefined;
}

let agentScript: string | undefined;

/** The agent's text, read once from the package (source and dist/ both find it by walking up). */
export function pullAgentScript(): string {
  if (agentScript !== undefined) return agentScript;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, "stdlib", "pull", "pull-agent.sh");
    if (existsSync(candidate)) return (agentScript = readFileSync(candidate, "utf8"));
    if (dirname(dir) === dir) throw new Error("depc is incomplete: stdlib/pull/pull-agent.sh is missing from its package");
  }
}

/**
 * The host side of pull deployment (docs/pull.md): installs the pull agent
 * (`/usr/local/lib/depc/pull-agent`, a POSIX sh script), its config
 * (`/etc/depc/pull-<env>.conf`: the store, the host's name, the environment)
 * and the publisher's key (`/etc/depc/pull-<env>.allowed_signers`), and runs
 * it every `every` seconds as root. Each run fetches the store's signed
 * manifest and applies this host's bundle when its serial is new. Place it
 * on hosts like any component, and deploy it once by push:
 *
 * ```ts
 * const pull = PullAgent({ store: "https://deploy.example.com/prod/", publisherKey: "ssh-ed25519 AAAA… publisher" });
 * export default environment({ hosts: { web1: [app, pull], db1: [postgres, pull] } });
 * ```
 */
export function PullAgent(options: PullAgentOptions): Component<"pull-agent", Record<never, never>> {
  if (typeof options !== "object" || options === null) {
    throw new PullAgentOptionError({ id: "pullAgentOption", args: { field: "options", value: show(options), problem: "must be an object" } });
  }
  const url = store(options.store);
  const key = publisherKey(options.publisherKey);
  const scheduler = options.scheduler ?? "systemd";
  if (scheduler !== "systemd" && scheduler !== "cron") {
    throw new PullAgentOptionError({ id: "pullAgentOption", args: { field: "scheduler", value: show(scheduler), problem: 'must be "systemd" or "cron"' } });
  }
  const every = seconds("every", options.every, 300, 1);
  const schedule = scheduler === "systemd" ? calendarOf(every) : cronOf(every);
  if (schedule === undefined) {
    const problem =
      scheduler === "systemd"
        ? "must divide a minute, an hour or a day evenly (5, 30, 300, 3600, …)"
        : "must be whole minutes that divide an hour or a day evenly (60, 300, 3600, …) with cron";
    throw new PullAgentOptionError({ id: "pullAgentEvery", args: { field: "every", value: show(every), problem } });
  }
  const splay = seconds("splay", options.splay, every, 0);
  if (options.decrypt !== undefined && typeof options.decrypt !== "boolean") {
    throw new PullAgentOptionError({ id: "pullAgentOption", args: { field: "decrypt", value: show(options.decrypt), problem: "must be true or false" } });
  }
  const identity = options.identity ?? "/etc/ssh/ssh_host_ed25519_key";
  if (typeof identity !== "string" || !identity.startsWith("/") || /[\u0000-\u001f\u007f]/.test(identity)) {
    throw new PullAgentOptionError({ id: "pullAgentOption", args: { field: "identity", value: show(identity), problem: "must be an absolute path on one line" } });
  }
  const script = pullAgentScript();

  return component({
    name: "pull-agent",
    build: (_settings, ctx) => {
      const env = ctx.environment.name;
      const config = `${PULL_CONFIG_DIR}/pull-${env}.conf`;
      const signers = `${PULL_CONFIG_DIR}/pull-${env}.allowed_signers`;
      Directory({ path: "/usr/local/lib/depc", mode: 0o755 });
      File({ path: PULL_AGENT_PATH, content: script, mode: 0o755 });
      Directory({ path: PULL_CONFIG_DIR, mode: 0o755 });
      File({ path: signers, content: `depc-publisher namespaces="depc-manifest" ${key}\n`, mode: 0o644 });
      File({
        path: config,
        mode: 0o644,
        content: [
          `# depc pull agent of host ${ctx.host.name} in environment ${env} (written by depc's PullAgent)`,
          `environment ${env}`,
          `host ${ctx.host.name}`,
          `store ${url}`,
          `signers ${signers}`,
          `identity ${identity}`,
          // systemd delays the start itself (RandomizedDelaySec=); under cron the agent sleeps.
          `splay ${scheduler === "cron" ? splay : 0}`,
          "",
        ].join("\n"),
      });
      if (options.decrypt === true) Package({ name: "age" });
      if (scheduler === "systemd") {
        Timer({
          name: `depc-pull-${env}`,
          description: `depc pull agent (environment ${env})`,
          onCalendar: schedule,
          command: [PULL_AGENT_PATH, config],
          randomizedDelaySec: splay,
          accuracySec: Math.max(1, Math.min(60, Math.floor(every / 10))),
        });
      } else {
        CronJob({ name: `depc-pull-${env}`, schedule, command: `${PULL_AGENT_PATH} ${config}` });
      }
    },
  });
}
