import type { Argv } from "../command/command.js";
import { defineResource, type Relations, type Resource } from "../../model/resource.js";

/** An HTTP GET that must answer `status` (redirects are followed; the final answer counts). */
export interface HttpProbe {
  /** `http://` or `https://` URL, e.g. `"http://127.0.0.1:8000/health"`. */
  readonly url: string;
  /**
   * The status the answer must have.
   * @default 200
   */
  readonly status?: number;
  /**
   * Text that a line of the answer's body must contain (one line, compared
   * byte for byte). busybox wget keeps no body for a 4xx/5xx answer, so a
   * body with such a `status` only matches where curl or GNU wget is installed.
   * @default any body
   */
  readonly body?: string;
}

/** A TCP connect that must succeed. */
export interface TcpProbe {
  /**
   * Host name or IP address to connect to.
   * @default "127.0.0.1"
   */
  readonly host?: string;
  /** Port, 1 to 65535. */
  readonly port: number;
}

/**
 * A health check: exactly one of `http`, `tcp` or `command`, tried up to
 * `retries` times. The host needs curl, wget or busybox for `http`; nc,
 * bash, python3 or busybox for `tcp`; and `timeout` for `command` (and for
 * busybox wget and bash's /dev/tcp).
 */
export interface HealthProbe {
  /** An HTTP GET, e.g. `{ url: "http://127.0.0.1:8000/health", body: "ok" }`. */
  readonly http?: HttpProbe;
  /** A TCP connect, e.g. `{ port: 5432 }`. */
  readonly tcp?: TcpProbe;
  /**
   * A command that must exit 0 (an argv list, or a string split like a
   * shell would, without operators), run with stdin from /dev/null in `/`.
   */
  readonly command?: Argv;
  /**
   * Attempts before the check counts as failed, 1 to 1000.
   * @default 10
   */
  readonly retries?: number;
  /**
   * Seconds between attempts, 0 to 3600.
   * @default 1
   */
  readonly interval?: number;
  /**
   * Seconds one attempt may take, 1 to 3600.
   * @default 5
   */
  readonly timeout?: number;
}

/** Options of {@link HealthCheck}: a name and a {@link HealthProbe}. */
export interface HealthCheckOptions extends HealthProbe, Relations {
  /** Names the check in reports (`healthcheck NAME`); unique per host. */
  readonly name: string;
}

export type HealthCheckResource = Resource<"healthcheck", HealthCheckOptions>;

/**
 * A health check run on every apply, after what it is ordered after: the
 * run fails when it fails. It changes nothing (an ok line with its result,
 * also in `--check`, which does not run it: what it checks may not be
 * deployed yet) and leaves nothing to remove.
 *
 * ```ts
 * HealthCheck({ name: "api", http: { url: "http://127.0.0.1:8000/health" }, after: [web] })
 * ```
 */
export function HealthCheck(options: HealthCheckOptions): HealthCheckResource {
  return defineResource("healthcheck", options, arguments[1]); // the compiler's site marker, if any
}
