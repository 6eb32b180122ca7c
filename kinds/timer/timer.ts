import { defineResource, type Principal, type Relations, type Resource } from "../../model/resource.js";

/** Options of {@link Timer}: a systemd timer and the oneshot service it starts. */
export interface TimerOptions extends Relations {
  /**
   * The name of both units: `"backup"` makes `/etc/systemd/system/backup.timer`
   * and `/etc/systemd/system/backup.service`. Letters, digits and `_ . : -`.
   */
  readonly name: string;
  /**
   * When it fires: a systemd calendar expression (`OnCalendar=`, see
   * systemd.time(7)), e.g. `"daily"`, `"*-*-* 03:17:00"`, `"Mon..Fri 08:00"`.
   * Checked on the host with `systemd-analyze calendar` before anything is
   * written.
   */
  readonly onCalendar: string;
  /**
   * What the service runs (`ExecStart=` of a `Type=oneshot` service): the
   * program (absolute, or a bare name systemd finds on its own PATH) and its
   * arguments, each passed as it is (no shell, no `$` or `%` expansion).
   */
  readonly command: readonly [string, ...string[]];
  /**
   * Run the command as this user (`User=`).
   * @default root
   */
  readonly user?: Principal;
  /**
   * Run the command with this group (`Group=`).
   * @default the user's primary group
   */
  readonly group?: Principal;
  /**
   * The units' `Description=`.
   * @default the command line
   */
  readonly description?: string;
  /**
   * Working directory of the command (absolute).
   * @default the user's home for a User=, else /
   */
  readonly workingDirectory?: string;
  /**
   * Environment variables of the command.
   * @default {}
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Delay each run by a random time up to this many seconds (`RandomizedDelaySec=`),
   * so that many hosts do not fire at once.
   * @default 0
   */
  readonly randomizedDelaySec?: number;
  /**
   * How precisely systemd fires it, in seconds (`AccuracySec=`); systemd
   * groups wake-ups within this window.
   * @default 60
   */
  readonly accuracySec?: number;
  /**
   * Catch up a run missed while the host was off at the next boot (`Persistent=`).
   * @default false
   */
  readonly persistent?: boolean;
}

export type TimerResource = Resource<"timer", TimerOptions>;

/**
 * A command run on a schedule by systemd: `<name>.timer` (enabled and
 * started) and `<name>.service` (`Type=oneshot`, started by the timer
 * only). batou_ext calls it `SystemdTimer`.
 *
 * ```ts
 * Timer({ name: "clearsessions", onCalendar: "*-*-* 03:17:00", user: "app",
 *         command: ["/srv/app/venv/bin/python", "/srv/app/manage.py", "clearsessions"] });
 * ```
 */
export function Timer(options: TimerOptions): TimerResource {
  return defineResource("timer", options, arguments[1]); // the compiler's site marker, if any
}
