// `depc publish <env> --to STORE --sign-key KEY`, registered in
// compiler/cli.ts with one `.command(...)`. Builds like `depc build` (or
// takes --from), then publish.ts writes the store. Every failure is one line
// per problem, `depc: publish: …`, and exit 1.
import { resolve } from "node:path";
import type { Argv, CommandModule } from "yargs";
import { visible } from "../../compiler/visible.js";
import { LayoutError, parseDuration } from "./layout.js";
import type { PublishOutcome, PublishedHostOutcome } from "./publish.js";
import { isStoreError } from "./store.js";

export interface PublishIo {
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly color: boolean;
  /** Process environment (PATH, HOME, TMPDIR, SSH_AUTH_SOCK); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Epoch seconds; default the clock. */
  readonly now?: number;
}

export interface PublishArgs {
  env?: string;
  to: string;
  signKey: string;
  from?: string;
  out?: string;
  expires: string;
  cache: boolean;
  identity?: string;
  evalTimeout?: number;
  sshOption?: string | string[];
  sshConfig?: string;
  json: boolean;
  "s3-endpoint"?: string;
}

const all = (value: string | readonly string[] | undefined): string[] => (value === undefined ? [] : typeof value === "string" ? [value] : value.map(String));

/** Epoch seconds as an ISO time without milliseconds (UTC). */
export const isoTime = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

function hostLine(h: PublishedHostOutcome): string | undefined {
  const short = h.digest.slice(0, 12);
  const sealed = h.object.endsWith(".age") ? ", encrypted" : "";
  switch (h.change) {
    case "added":
      return `${h.name}: new host, bundle ${short}${sealed}`;
    case "bundle":
      return `${h.name}: new bundle ${short}${sealed}`;
    case "host key":
      return `${h.name}: bundle ${short} encrypted again, to its changed host key`;
    case "object":
      return `${h.name}: bundle ${short} encrypted again (its object was missing from the store)`;
    case "after":
      return `${h.name}: ${h.after.length === 0 ? "waits for no host now" : `waits for ${h.after.join(", ")} now`}`;
    default:
      return undefined;
  }
}

/** The text `depc publish` prints for an outcome. */
export function formatOutcome(o: PublishOutcome): string {
  const lines: string[] = [];
  const uploaded = o.hosts.filter((h) => h.uploaded).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (o.wrote === false) {
    if (uploaded > 0) lines.push(`put back ${plural(uploaded, "bundle")} missing from the store`);
    lines.push(`${o.environment} unchanged at serial ${o.serial} (expires ${isoTime(o.expires)})`);
    return `${lines.join("\n")}\n`;
  }
  for (const h of o.hosts) {
    const line = hostLine(h);
    if (line !== undefined) lines.push(line);
  }
  for (const name of o.removed) lines.push(`${name}: removed (no longer in the environment)`);
  if (o.wrote === "expiry") lines.push(`nothing changed; serial ${o.serial - 1} was past half its lifetime: signed again as serial ${o.serial}, expires ${isoTime(o.expires)}`);
  // Hosts whose line changed without an upload (their bundle was in the store already) are in the lines above.
  lines.push(`published serial ${o.serial} of ${o.environment}: ${plural(uploaded, "bundle")} uploaded, ${o.hosts.filter((h) => h.change === "unchanged").length} unchanged`);
  return `${lines.join("\n")}\n`;
}

function options<T>(y: Argv<T>) {
  return y
    .positional("env", { type: "string", describe: "Environment module (env/prod); not needed with --from" })
    .option("to", { type: "string", demandOption: true, describe: "The store: a directory, s3://bucket/prefix (one store per environment)" })
    .option("sign-key", { type: "string", demandOption: true, describe: "ssh private key to sign the manifest with (or KEY.pub with its private half in ssh-agent)" })
    .option("from", { type: "string", describe: "Publish an existing build directory (build/prod) instead of building" })
    .option("out", { type: "string", describe: "Where the build is written", defaultDescription: "build/<environment>" })
    .option("expires", { type: "string", default: "7d", describe: "How long hosts accept the manifest: 30m, 12h, 7d (publish again before half of it is gone)" })
    .option("cache", { type: "boolean", default: true, describe: "Reuse the last type-check when no source changed (--no-cache to force)" })
    .option("identity", { type: "string", describe: "age identity file to decrypt secrets/<env>.age with (as for depc build)", defaultDescription: "$DEPC_AGE_KEY, $DEPC_AGE_IDENTITY, or ~/.config/depc/age.key" })
    .option("eval-timeout", { type: "number", describe: "Stop evaluating the model after this many seconds (an endless loop)", defaultDescription: "$DEPC_EVAL_TIMEOUT, or 60" })
    .option("ssh-option", { alias: "o", type: "string", describe: "An ssh -o option for finding hosts' keys, as for depc deploy (repeatable)" })
    .option("ssh-config", { alias: "F", type: "string", describe: "ssh config file (ssh -F), as for depc deploy" })
    .option("s3-endpoint", { type: "string", describe: "An S3-compatible server for s3:// stores (path-style addressing)", defaultDescription: "$AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, or AWS's own" })
    .option("json", { type: "boolean", default: false, describe: "Print the outcome as JSON" })
    .epilogue("Exit codes: 0 published (or nothing to publish), 1 an error (printed; the store's latest serial is as it was).");
}

/** `depc publish`, one yargs command module. */
export function publishCommand(io: PublishIo, setExit: (code: number) => void): CommandModule<object, PublishArgs> {
  return {
    command: "publish [env]",
    describe: "Build, then write the bundles and a signed manifest to a store that hosts pull from (see docs/pull.md)",
    builder: (y: Argv<object>) => options(y) as unknown as Argv<PublishArgs>,
    handler: async (args) => {
      setExit(await runPublish(args, io));
    },
  };
}

export async function runPublish(args: PublishArgs, io: PublishIo): Promise<number> {
  const fail = (...lines: string[]) => {
    // A store's server, ssh-keygen and age speak in these lines: escaped, as everything from elsewhere.
    for (const line of lines) io.stderr(`depc: publish: ${visible(line)}\n`);
    return 1;
  };
  let expiresSeconds: number;
  try {
    expiresSeconds = parseDuration(args.expires);
  } catch (error) {
    if (error instanceof LayoutError) return fail(`--expires ${error.message}`);
    throw error;
  }
  const signKey = resolve(io.cwd, args.signKey);
  // Before the build: a missing key is known without it.
  const { existsSync } = await import("node:fs");
  if (!existsSync(signKey)) return fail(`the signing key ${args.signKey} does not exist (make one with: ssh-keygen -t ed25519 -f ${args.signKey.replace(/\.pub$/, "")})`);
  // http(s) stores are read-only (for depc status): said before building, not at the first upload.
  if (/^https?:\/\//i.test(args.to)) return fail(`the store ${args.to} is read-only: publish to a directory or an s3:// bucket, and serve that over http(s)`);
  const [{ buildSource }, { openStore }, { publish, PublishError }] = await Promise.all([import("../deploy/source.js"), import("./store.js"), import("./publish.js")]);
  let store;
  try {
    // s3Endpoint is read by s3-store.ts (its S3StoreOptions).
    const storeOptions = { cwd: io.cwd, env: io.env ?? process.env, ...(args["s3-endpoint"] !== undefined ? { s3Endpoint: args["s3-endpoint"] } : {}) };
    store = await openStore(args.to, storeOptions);
  } catch (error) {
    if (isStoreError(error)) return fail(error.message);
    throw error;
  }
  const got = await buildSource(
    {
      ...(args.env !== undefined ? { env: args.env } : {}),
      ...(args.from !== undefined ? { from: args.from } : {}),
      ...(args.out !== undefined ? { out: args.out } : {}),
      ...(args.identity !== undefined ? { identity: args.identity } : {}),
      ...(args.evalTimeout !== undefined ? { evalTimeout: args.evalTimeout } : {}),
      cache: args.cache,
    },
    { cwd: io.cwd, stderr: io.stderr, color: io.color },
  );
  if (!got.ok) {
    if (got.message) return fail(got.message.replace(/\(depc deploy env\/prod\)/, "(depc publish env/prod)"));
    return 1;
  }
  try {
    const outcome = await publish({
      source: got.source,
      store,
      signKey,
      expiresSeconds,
      ssh: { options: all(args.sshOption), ...(args.sshConfig !== undefined ? { configFile: args.sshConfig } : {}) },
      env: io.env ?? process.env,
      ...(io.now !== undefined ? { now: io.now } : {}),
    });
    io.stdout(args.json ? `${JSON.stringify(outcome, null, 2)}\n` : formatOutcome(outcome));
    return 0;
  } catch (error) {
    if (error instanceof PublishError) return fail(...error.lines);
    if (isStoreError(error)) return fail(error.message);
    // A build --from that the layout cannot name (an environment name with a space: a hand-edited manifest.json).
    if (error instanceof LayoutError) return fail(`the build cannot be published: ${error.message}`);
    throw error;
  }
}
