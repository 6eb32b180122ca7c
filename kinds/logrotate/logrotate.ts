import { defineResource, type Relations, type Resource } from "../../model/resource.js";

/** Options of {@link Logrotate}: one entry of logrotate's configuration. */
export interface LogrotateOptions extends Relations {
  /** The entry's name, unique per host: it labels the entry in the file (`# depc logrotate <name>`). Letters, digits and `_ . -`. */
  readonly name: string;
  /** The log files it rotates: absolute paths, globs allowed (`/var/log/app/*.log`). */
  readonly paths: readonly [string, ...string[]];
  /**
   * How often the logs are rotated.
   * @default "weekly"
   */
  readonly frequency?: "daily" | "weekly" | "monthly";
  /**
   * How many rotated logs are kept (`rotate N`); older ones are removed.
   * @default 4
   */
  readonly rotate?: number;
  /**
   * gzip rotated logs.
   * @default false
   */
  readonly compress?: boolean;
  /**
   * With `compress`: leave the newest rotated log uncompressed until the next rotation
   * (for programs that write to it a little longer).
   * @default false
   */
  readonly delaycompress?: boolean;
  /**
   * Copy the log and truncate it in place, for programs that keep the file
   * open and cannot be told to reopen it (no signal needed; a few lines may be lost).
   * @default false
   */
  readonly copytruncate?: boolean;
  /**
   * No error when a log is missing.
   * @default true
   */
  readonly missingok?: boolean;
  /**
   * Do not rotate an empty log.
   * @default true
   */
  readonly notifempty?: boolean;
  /**
   * A shell script logrotate runs after rotating (`postrotate` … `endscript`),
   * e.g. `"systemctl reload nginx"`: tell the program to reopen its logs.
   * @default none
   */
  readonly postrotate?: string;
  /**
   * Rotate as this user and group (`su USER GROUP`): needed when the logs'
   * directory is writable by a user other than root.
   * @default root
   */
  readonly su?: readonly [string, string];
}

export type LogrotateResource = Resource<"logrotate", LogrotateOptions>;

/**
 * Log rotation for some log files: one entry of logrotate's configuration.
 * All Logrotate entries of a host are written into one file,
 * `/etc/logrotate.d/depc-<environment>`, which the host's daily logrotate
 * run reads (Debian's `logrotate` package).
 *
 * ```ts
 * Logrotate({ name: "app", paths: ["/var/log/app/*.log"], frequency: "daily", rotate: 14,
 *             compress: true, copytruncate: true, su: ["app", "app"] });
 * ```
 */
export function Logrotate(options: LogrotateOptions): LogrotateResource {
  return defineResource("logrotate", options, arguments[1]); // the compiler's site marker, if any
}
