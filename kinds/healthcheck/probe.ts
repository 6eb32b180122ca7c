import { diagnostic, show, type Diagnostic } from "../../compiler/diagnostics/diagnostic.js";
import type { MessageId } from "../../compiler/diagnostics/messages.js";
import { splitArgv } from "../command/compile.js";
import type { Argument, At } from "../kind.js";

/*
 * A health check's options (HealthProbe), shared by HealthCheck, Program and
 * Service: validated here and lowered to the words runtime/health.sh's
 * depc_health takes after its label: PROBE RETRIES INTERVAL TIMEOUT ARGS...
 */

/** Defaults, as documented in healthcheck.ts. */
export const HEALTH_DEFAULTS = { retries: 10, interval: 1, timeout: 5, status: 200, host: "127.0.0.1" } as const;
/** Seconds a (re)started Program or Service must keep its process (see stableSeconds). */
export const STABLE_DEFAULT = 3;

/** The diagnostics of a health check's options, for a kind's `diagnostics` list. */
export const HEALTH_DIAGNOSTICS: readonly MessageId[] = [
  "healthNotObject",
  "healthProbeCount",
  "healthUnknownField",
  "healthUrl",
  "healthStatus",
  "healthBody",
  "healthPort",
  "healthHost",
  "healthCommand",
  "healthNumber",
];

const FIELDS = ["http", "tcp", "command", "retries", "interval", "timeout"];
const PROBES = ["http", "tcp", "command"] as const;
/** Characters a URL may hold as it is (RFC 3986's unreserved, reserved and `%`). */
const URL_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;
/** A host name (labels of letters, digits, `-`), an IPv4 address, or an IPv6 address. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** The probe as reports show it: `GET URL`, `TCP HOST:PORT`, a command's words. */
export interface LoweredHealth {
  /** depc_health's words after its label; empty: no check. */
  readonly words: readonly Argument[];
  /** What `--check` says it would check. */
  readonly shown: string;
}

const whole = (v: unknown, min: number, max: number): v is number => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;

/**
 * Validates a HealthProbe (the `health` option, or a HealthCheck's own
 * props when `fields` is given the prop names besides the probe's) and
 * lowers it. `owner` names the resource in messages (`Program "web"`).
 */
export function checkHealth(owner: string, value: unknown, at: At, report: (d: Diagnostic) => void, ignore: readonly string[] = []): LoweredHealth | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    report(diagnostic("healthNotObject", { owner, value: show(value) }, at));
    return undefined;
  }
  const props = value as Readonly<Record<string, unknown>>;
  let ok = true;
  const fail = (id: MessageId, args: Record<string, string | number>) => {
    report(diagnostic(id, { owner, ...args }, at));
    ok = false;
  };
  for (const field of Object.keys(props)) {
    if (!FIELDS.includes(field) && !ignore.includes(field) && props[field] !== undefined) fail("healthUnknownField", { field: JSON.stringify(field) });
  }
  const given = PROBES.filter((p) => props[p] !== undefined);
  if (given.length !== 1) fail("healthProbeCount", { found: given.length === 0 ? "none" : given.join(" and ") });
  const number = (field: string, fallback: number, min: number, max: number): string => {
    const v = props[field];
    if (v === undefined) return String(fallback);
    if (!whole(v, min, max)) fail("healthNumber", { field, value: show(v), min, max });
    return String(v);
  };
  const retries = number("retries", HEALTH_DEFAULTS.retries, 1, 1000);
  const interval = number("interval", HEALTH_DEFAULTS.interval, 0, 3600);
  const timeout = number("timeout", HEALTH_DEFAULTS.timeout, 1, 3600);
  let probe: readonly Argument[] = [];
  let shown = "";
  if (given.length === 1) {
    const kind = given[0]!;
    const lowered = kind === "http" ? httpProbe(props.http, fail) : kind === "tcp" ? tcpProbe(props.tcp, fail) : commandProbe(props.command, fail);
    if (lowered !== undefined) ({ words: probe, shown } = lowered);
  }
  if (!ok) return undefined;
  return { words: [given[0]!, retries, interval, timeout, ...probe], shown };
}

type Fail = (id: MessageId, args: Record<string, string | number>) => void;

function httpProbe(value: unknown, fail: Fail): LoweredHealth | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("healthUrl", { url: show(value), problem: "is missing: http must be an object like { url: \"http://127.0.0.1:8000/\" }" });
    return undefined;
  }
  const { url, status, body } = value as Record<string, unknown>;
  let ok = true;
  const problem =
    typeof url !== "string"
      ? "must be a string"
      : !/^https?:\/\//.test(url)
        ? "must start with http:// or https://"
        : !URL_CHARS.test(url)
          ? "has characters a URL cannot hold as they are (spaces, quotes, control or non-ASCII characters): percent-encode them"
          : !/^https?:\/\/[^/?#]+/.test(url)
            ? "has no host"
            : undefined;
  if (problem !== undefined) {
    fail("healthUrl", { url: show(url), problem });
    ok = false;
  }
  if (status !== undefined && !whole(status, 100, 599)) {
    fail("healthStatus", { value: show(status) });
    ok = false;
  }
  if (body !== undefined) {
    const bodyProblem = typeof body !== "string" ? "must be a string" : body === "" ? "must not be empty (leave it out to accept any body)" : CONTROL.test(body) ? "must be one line without control characters" : undefined;
    if (bodyProblem !== undefined) {
      fail("healthBody", { value: show(body), problem: bodyProblem });
      ok = false;
    }
  }
  if (!ok) return undefined;
  const want = String(status ?? HEALTH_DEFAULTS.status);
  return { words: [url as string, want, (body as string | undefined) ?? ""], shown: `GET ${url as string} answers ${want}${body === undefined ? "" : ` with ${JSON.stringify(body)}`}` };
}

function tcpProbe(value: unknown, fail: Fail): LoweredHealth | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("healthPort", { value: show(value) });
    return undefined;
  }
  const { host, port } = value as Record<string, unknown>;
  let ok = true;
  if (!whole(port, 1, 65535)) {
    fail("healthPort", { value: show(port) });
    ok = false;
  }
  if (host !== undefined && (typeof host !== "string" || host.length > 253 || !HOST.test(host))) {
    fail("healthHost", { value: show(host) });
    ok = false;
  }
  if (!ok) return undefined;
  const h = (host as string | undefined) ?? HEALTH_DEFAULTS.host;
  return { words: [h, String(port)], shown: `TCP connect to ${h.includes(":") ? `[${h}]` : h}:${String(port)}` };
}

function commandProbe(value: unknown, fail: Fail): LoweredHealth | undefined {
  const split = splitArgv(value, { runner: "the health check", envField: "env" });
  if ("problem" in split) {
    fail("healthCommand", { problem: split.problem.replace("pass env or an argv list", "use an argv list") });
    return undefined;
  }
  const shown = display(split.argv);
  return { words: [shown, { run: { argv: split.argv, cwd: "/", env: {} } }], shown: `${shown} exits 0` };
}

/** A command as reports show it: words, quoted when needed, control characters as `?`. */
function display(argv: readonly string[]): string {
  return argv
    .map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : JSON.stringify(w)))
    .join(" ")
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028-\u202e\u2066-\u2069\u200e\u200f]/g, "?");
}

/** Validates stableSeconds (`undefined`: the default). */
export function checkStable(owner: string, value: unknown, at: At, report: (d: Diagnostic) => void): string | undefined {
  if (value === undefined) return String(STABLE_DEFAULT);
  if (whole(value, 0, 600)) return String(value);
  report(diagnostic("stableSeconds", { owner, value: show(value) }, at));
  return undefined;
}
