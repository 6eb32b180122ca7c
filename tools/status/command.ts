// The CLI command `depc status <env> --store STORE [--json]`, registered in
// compiler/cli.ts. A failure is one line `depc: status: ...` and exit 1.
import { basename, dirname } from "node:path";
import type { Argv, CommandModule } from "yargs";
import { visible } from "../../compiler/visible.js";
import { isStoreError, openStore, type StoreOptions } from "../publish/store.js";
import { StatusError, behind, formatStatus, readStatus, statusJson } from "./status.js";

export interface StatusIo {
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Process environment (AWS_*); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Epoch seconds; default the clock (as PublishIo's). */
  readonly now?: number;
}

export interface StatusArgs {
  readonly env: string;
  readonly store: string;
  readonly json?: boolean;
  readonly "s3-endpoint"?: string;
}

/** `--s3-endpoint`, for every command that opens a store. */
export const s3EndpointOption = {
  type: "string",
  describe: "An S3-compatible server for s3:// stores (path-style addressing)",
  defaultDescription: "$AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, or AWS's own",
} as const;

export const STATUS_EXIT_TEXT = "Exit codes: 0 every host has applied the latest serial, 1 a host is behind or has not reported (or an error, printed).";

export function statusCommand(io: StatusIo, setExit: (code: number) => void): CommandModule<object, StatusArgs> {
  return {
    command: "status <env>",
    describe: "Show which serial each host of a published environment has applied (pull mode), its result and when; the hosts behind",
    builder: (y: Argv<object>) =>
      y
        .positional("env", { type: "string", demandOption: true, describe: "Environment name (prod) or module (env/prod)" })
        .option("store", { type: "string", demandOption: true, describe: "The store it is published to: a directory, an http(s):// URL or s3://bucket/prefix" })
        .option("json", { type: "boolean", default: false, describe: "Print JSON for tools instead of text" })
        .option("s3-endpoint", s3EndpointOption)
        .epilogue(STATUS_EXIT_TEXT) as unknown as Argv<StatusArgs>,
    handler: async (args) => {
      setExit(await runStatus(args, io));
    },
  };
}

/** `prod`, `env/prod`, `env/prod.ts` or `env/prod/index.ts` name the environment prod. */
export function environmentName(argument: string): string {
  const file = basename(argument).replace(/\.m?ts$/, "");
  return file === "index" && /[/\\]/.test(argument) ? basename(dirname(argument)) : file;
}

export async function runStatus(args: StatusArgs, io: StatusIo): Promise<number> {
  try {
    const options: StoreOptions & { s3Endpoint?: string } = {
      cwd: io.cwd,
      env: io.env ?? process.env,
      ...(args["s3-endpoint"] !== undefined ? { s3Endpoint: args["s3-endpoint"] } : {}),
    };
    const store = await openStore(args.store, options);
    const status = await readStatus(store, environmentName(args.env));
    const now = io.now ?? Math.floor(Date.now() / 1000);
    io.stdout(args.json ? `${JSON.stringify(statusJson(status, now), null, 2)}\n` : formatStatus(status, now));
    return behind(status).length === 0 ? 0 : 1;
  } catch (error) {
    // isStoreError: the s3:// store's errors come from another copy of store.js in the CLI bundle.
    if (error instanceof StatusError || isStoreError(error)) {
      io.stderr(`depc: status: ${visible(error.message)}\n`);
      return 1;
    }
    throw error;
  }
}
