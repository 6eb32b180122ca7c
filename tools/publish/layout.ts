// The store layout of pull mode (issue 15): where things are in a store, and
// the two text formats written there, the signed manifest and a host's
// report. The contract is /docs/pull.md's "Store layout"; the agent
// (POSIX sh) reads and writes the same texts, so every rule here is one a
// shell script can check with `read` and `case`.

/** Host names (and so report paths): what the compiler allows. */
export const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Environment names: as for secrets/<env>.age. */
export const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const HEX = /^[0-9a-f]{64}$/;
/** A serial: ≥ 1, at most 15 digits (exact in a double and in any sh's arithmetic), no leading zero. */
const SERIAL = /^[1-9][0-9]{0,14}$/;
/** Epoch seconds as written in the texts. */
const EPOCH = /^(0|[1-9][0-9]{0,14})$/;

/** Largest serial the layout allows. */
export const MAX_SERIAL = 999_999_999_999_999;

export const MANIFEST_HEADER = "depc-manifest 1";
export const REPORT_HEADER = "depc-report 1";
/** `ssh-keygen -Y sign -n` namespace of manifests. */
export const SIGNATURE_NAMESPACE = "depc-manifest";
/** The signer identity in the hosts' allowed_signers file. */
export const SIGNER_IDENTITY = "depc-publisher";

/** A text in the store does not follow the layout; the message is one line. */
export class LayoutError extends Error {
  override readonly name = "LayoutError";
}

// ---- paths ----

export const LATEST_PATH = "latest";

/** `bundles/<hex>` (plain) or `bundles/<hex>.age`: `hex` is the sha256 of the stored bytes. */
export function bundlePath(hex: string, encrypted: boolean): string {
  if (!HEX.test(hex)) throw new LayoutError(`not a sha256 in lowercase hex: ${JSON.stringify(hex)}`);
  return `bundles/${hex}${encrypted ? ".age" : ""}`;
}

export function manifestPath(serial: number): string {
  return `manifests/${serialText(serial)}`;
}

export function signaturePath(serial: number): string {
  return `${manifestPath(serial)}.sig`;
}

export function reportPath(host: string): string {
  if (!HOST_NAME.test(host)) throw new LayoutError(`not a host name: ${JSON.stringify(host)}`);
  return `reports/${host}`;
}

/** A bundle object path's parts, or undefined when `path` is not one. */
export function parseBundlePath(path: string): { hex: string; encrypted: boolean } | undefined {
  const m = /^bundles\/([0-9a-f]{64})(\.age)?$/.exec(path);
  return m ? { hex: m[1]!, encrypted: m[2] !== undefined } : undefined;
}

// ---- serials ----

export function isSerial(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 1 && n <= MAX_SERIAL;
}

function serialText(serial: number): string {
  if (!isSerial(serial)) throw new LayoutError(`not a serial (a whole number from 1 to ${MAX_SERIAL}): ${serial}`);
  return String(serial);
}

/** The serial after `serial` (0: none yet). */
export function nextSerial(serial: number): number {
  if (serial >= MAX_SERIAL) throw new LayoutError(`the serial ${serial} is the last one the layout allows`);
  return serial + 1;
}

/** `latest`'s text: the serial in ASCII decimal and a newline. */
export function formatLatest(serial: number): string {
  return `${serialText(serial)}\n`;
}

export function parseLatest(text: string): number {
  const m = /^([0-9]+)\n$/.exec(text);
  if (m === null || !SERIAL.test(m[1]!)) throw new LayoutError(`latest: not a serial and a newline: ${JSON.stringify(text.slice(0, 40))}`);
  return Number(m[1]);
}

// ---- durations (--expires) ----

/** `30m`, `12h`, `7d` (or `90s`) in seconds. */
export function parseDuration(text: string): number {
  const m = /^([1-9][0-9]{0,8})([smhd])$/.exec(text);
  if (m === null) throw new LayoutError(`${JSON.stringify(text)} is not a duration like 30m, 12h or 7d`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s" | "m" | "h" | "d"];
}

// ---- the manifest ----

export interface PublishedHost {
  readonly name: string;
  /** sha256 hex of the plain bundle (the build manifest's digest without `sha256:`). */
  readonly digest: string;
  /** Where its bytes are: `bundles/<hex>` or `bundles/<hex>.age`. */
  readonly object: string;
  /** sha256 hex of the stored object's bytes (== digest for a plain object). */
  readonly objectSha256: string;
  /** The hosts it waits for (providers), in the build manifest's order. */
  readonly after: readonly string[];
}

export interface PublishedManifest {
  readonly environment: string;
  readonly serial: number;
  /** Epoch seconds. */
  readonly published: number;
  /** Epoch seconds; an agent refuses the manifest from then on. */
  readonly expires: number;
  readonly hosts: readonly PublishedHost[];
}

function checkEpoch(what: string, n: number): string {
  if (!Number.isSafeInteger(n) || n < 0 || !EPOCH.test(String(n))) throw new LayoutError(`manifest: ${what} is not epoch seconds: ${n}`);
  return String(n);
}

function hostProblem(h: PublishedHost, names: ReadonlySet<string>): string | undefined {
  if (!HOST_NAME.test(h.name)) return `host name ${JSON.stringify(h.name)} is not a host name`;
  if (!HEX.test(h.digest)) return `host ${h.name}: digest is not a sha256 in lowercase hex`;
  if (!HEX.test(h.objectSha256)) return `host ${h.name}: object sha256 is not a sha256 in lowercase hex`;
  const object = parseBundlePath(h.object);
  if (object === undefined) return `host ${h.name}: object ${JSON.stringify(h.object)} is not bundles/<sha256> or bundles/<sha256>.age`;
  if (object.hex !== h.objectSha256) return `host ${h.name}: object ${h.object} is not named by its sha256 ${h.objectSha256}`;
  if (!object.encrypted && h.digest !== h.objectSha256) return `host ${h.name}: a plain object's sha256 must be its digest`;
  for (const a of h.after) {
    if (!HOST_NAME.test(a)) return `host ${h.name}: after names ${JSON.stringify(a)}, not a host name`;
    if (!names.has(a)) return `host ${h.name}: after names ${a}, which has no host line`;
    if (a === h.name) return `host ${h.name}: waits for itself`;
  }
  if (new Set(h.after).size !== h.after.length) return `host ${h.name}: after names a host twice`;
  return undefined;
}

function manifestProblem(m: PublishedManifest): string | undefined {
  if (!ENVIRONMENT_NAME.test(m.environment)) return `environment ${JSON.stringify(m.environment)} is not an environment name`;
  if (!isSerial(m.serial)) return `serial ${m.serial} is not a whole number from 1 to ${MAX_SERIAL}`;
  if (m.expires <= m.published) return `expires (${m.expires}) is not after published (${m.published})`;
  if (m.hosts.length === 0) return "no host lines";
  const names = new Set<string>();
  for (const h of m.hosts) {
    if (names.has(h.name)) return `host ${h.name} has two host lines`;
    names.add(h.name);
  }
  for (const h of m.hosts) {
    const problem = hostProblem(h, names);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** The manifest's text: exactly the bytes that are signed and stored at manifests/<serial>. */
export function formatManifest(m: PublishedManifest): string {
  const published = checkEpoch("published", m.published);
  const expires = checkEpoch("expires", m.expires);
  const problem = manifestProblem(m);
  if (problem !== undefined) throw new LayoutError(`manifest: ${problem}`);
  const lines = [MANIFEST_HEADER, `environment ${m.environment}`, `serial ${m.serial}`, `published ${published}`, `expires ${expires}`];
  for (const h of m.hosts) lines.push(`host ${h.name} ${h.digest} ${h.object} ${h.objectSha256} ${h.after.length === 0 ? "-" : h.after.join(",")}`);
  return `${lines.join("\n")}\n`;
}

const SINGLE_FIELDS = ["environment", "serial", "published", "expires"] as const;

/**
 * Reads a manifest's text. Strict about what it knows (the header, each of
 * environment/serial/published/expires exactly once, well-formed host
 * lines); a line whose first word it does not know is skipped, as the
 * agent does (room to grow). Errors are one line: `manifest: line N: …`.
 */
export function parseManifest(text: string): PublishedManifest {
  const fail = (line: number, why: string): never => {
    throw new LayoutError(`manifest: line ${line}: ${why}`);
  };
  if (!/^[\x20-\x7e\n]*$/.test(text)) throw new LayoutError("manifest: holds a byte that is not printable ASCII or LF");
  if (text === "" || !text.endsWith("\n")) throw new LayoutError("manifest: does not end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines[0] !== MANIFEST_HEADER) fail(1, `expected ${JSON.stringify(MANIFEST_HEADER)}, found ${JSON.stringify(lines[0]!.slice(0, 40))}`);
  const single = new Map<string, number>();
  const hosts: PublishedHost[] = [];
  let environment = "";
  let serial = 0;
  let published = 0;
  let expires = 0;
  lines.forEach((line, index) => {
    const n = index + 1;
    if (n === 1) return;
    const fields = line.split(" ");
    if (fields.some((f) => f === "")) fail(n, "fields must be separated by exactly one space");
    const [word, ...rest] = fields;
    if ((SINGLE_FIELDS as readonly string[]).includes(word!)) {
      if (single.has(word!)) fail(n, `a second ${word} line`);
      if (rest.length !== 1) fail(n, `${word} takes one value`);
      const value = rest[0]!;
      if (word === "environment") {
        if (!ENVIRONMENT_NAME.test(value)) fail(n, `${JSON.stringify(value)} is not an environment name`);
        single.set(word, n);
        environment = value;
      } else if (word === "serial") {
        if (!SERIAL.test(value)) fail(n, `${JSON.stringify(value)} is not a serial (1 to 15 digits, no leading zero)`);
        single.set(word, n);
        serial = Number(value);
      } else {
        if (!EPOCH.test(value)) fail(n, `${JSON.stringify(value)} is not epoch seconds`);
        single.set(word!, n);
        if (word === "published") published = Number(value);
        else expires = Number(value);
      }
    } else if (word === "host") {
      if (rest.length !== 5) fail(n, "a host line is: host <name> <digest> <object> <object-sha256> <after>");
      const [name, digest, object, objectSha256, after] = rest as [string, string, string, string, string];
      if (after !== "-" && !/^[^,]+(,[^,]+)*$/.test(after)) fail(n, `after ${JSON.stringify(after)} is not - or host names separated by commas`);
      hosts.push({ name, digest, object, objectSha256, after: after === "-" ? [] : after.split(",") });
    }
    // Any other first word: a later version's record, skipped.
  });
  for (const word of SINGLE_FIELDS) if (!single.has(word)) throw new LayoutError(`manifest: no ${word} line`);
  const m: PublishedManifest = { environment, serial, published, expires, hosts };
  const problem = manifestProblem(m);
  if (problem !== undefined) throw new LayoutError(`manifest: ${problem}`);
  return m;
}

// ---- the report ----

export const REPORT_RESULTS = ["ok", "error", "refused", "waiting"] as const;
export type ReportResult = (typeof REPORT_RESULTS)[number];

export interface HostReport {
  readonly host: string;
  /** The last serial this host applied successfully; 0 when none. */
  readonly serial: number;
  /** sha256 hex of that bundle; undefined when none (`-`). */
  readonly digest: string | undefined;
  readonly result: ReportResult;
  /** The serial of the latest run's manifest; 0 when none. */
  readonly attempted: number;
  /** Epoch seconds of that run. */
  readonly at: number;
  /** One line of printable ASCII, at most 200 characters, maybe empty. */
  readonly message: string;
}

const REPORT_FIELDS = ["host", "serial", "digest", "result", "attempted", "at", "message"] as const;
const MESSAGE = /^[\x20-\x7e]{0,200}$/;
const SERIAL_OR_ZERO = /^(0|[1-9][0-9]{0,14})$/;

function reportProblem(r: HostReport): string | undefined {
  if (!HOST_NAME.test(r.host)) return `host ${JSON.stringify(r.host)} is not a host name`;
  if (!(r.serial === 0 || isSerial(r.serial))) return `serial ${r.serial} is not 0 or a serial`;
  if (r.digest !== undefined && !HEX.test(r.digest)) return "digest is not a sha256 in lowercase hex or -";
  if (r.serial === 0 && r.digest !== undefined) return "serial 0 (nothing applied) has a digest";
  if (!(REPORT_RESULTS as readonly string[]).includes(r.result)) return `result ${JSON.stringify(r.result)} is not ${REPORT_RESULTS.join(", ")}`;
  if (!(r.attempted === 0 || isSerial(r.attempted))) return `attempted ${r.attempted} is not 0 or a serial`;
  if (!Number.isSafeInteger(r.at) || r.at < 0) return `at ${r.at} is not epoch seconds`;
  if (!MESSAGE.test(r.message)) return "message is not one line of at most 200 printable ASCII characters";
  return undefined;
}

/** A report's text (the agent writes the same with printf); an empty message is `message ` with its space. */
export function formatReport(r: HostReport): string {
  const problem = reportProblem(r);
  if (problem !== undefined) throw new LayoutError(`report: ${problem}`);
  return [REPORT_HEADER, `host ${r.host}`, `serial ${r.serial}`, `digest ${r.digest ?? "-"}`, `result ${r.result}`, `attempted ${r.attempted}`, `at ${r.at}`, `message ${r.message}`].join("\n") + "\n";
}

/**
 * Reads a report's text. Reports are written by hosts, unauthenticated:
 * everything is checked, and a bad one is one line `report: line N: …`
 * (never echoing more than 40 characters of it, JSON-escaped).
 * Each field once, any order; unknown first words are skipped.
 */
export function parseReport(text: string): HostReport {
  const fail = (line: number, why: string): never => {
    throw new LayoutError(`report: line ${line}: ${why}`);
  };
  if (text.length > 4096) throw new LayoutError("report: longer than 4096 bytes");
  if (!/^[\x20-\x7e\n]*$/.test(text)) throw new LayoutError("report: holds a byte that is not printable ASCII or LF");
  if (text === "" || !text.endsWith("\n")) throw new LayoutError("report: does not end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines[0] !== REPORT_HEADER) fail(1, `expected ${JSON.stringify(REPORT_HEADER)}, found ${JSON.stringify(lines[0]!.slice(0, 40))}`);
  const values = new Map<string, string>();
  lines.forEach((line, index) => {
    const n = index + 1;
    if (n === 1) return;
    const space = line.indexOf(" ");
    const word = space < 0 ? line : line.slice(0, space);
    const value = space < 0 ? "" : line.slice(space + 1);
    if (!(REPORT_FIELDS as readonly string[]).includes(word)) return;
    if (values.has(word)) fail(n, `a second ${word} line`);
    if (word !== "message" && (value === "" || value.includes(" "))) fail(n, `${word} takes one value`);
    const bad = (what: string) => fail(n, `${word} ${JSON.stringify(value.slice(0, 40))} is not ${what}`);
    if (word === "host" && !HOST_NAME.test(value)) bad("a host name");
    if ((word === "serial" || word === "attempted") && !SERIAL_OR_ZERO.test(value)) bad("0 or a serial");
    if (word === "digest" && value !== "-" && !HEX.test(value)) bad("a sha256 in lowercase hex or -");
    if (word === "result" && !(REPORT_RESULTS as readonly string[]).includes(value)) bad(REPORT_RESULTS.join(", "));
    if (word === "at" && !EPOCH.test(value)) bad("epoch seconds");
    if (word === "message" && value.length > 200) fail(n, "message is longer than 200 characters");
    values.set(word, value);
  });
  for (const word of REPORT_FIELDS) if (!values.has(word)) throw new LayoutError(`report: no ${word} line`);
  const digest = values.get("digest")!;
  const r: HostReport = {
    host: values.get("host")!,
    serial: Number(values.get("serial")),
    digest: digest === "-" ? undefined : digest,
    result: values.get("result") as ReportResult,
    attempted: Number(values.get("attempted")),
    at: Number(values.get("at")),
    message: values.get("message")!,
  };
  const problem = reportProblem(r);
  if (problem !== undefined) throw new LayoutError(`report: ${problem}`);
  return r;
}
