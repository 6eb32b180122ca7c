import { defineResource, type Relations, type Resource } from "../../model/resource.js";

/** Options of {@link CronJob}: one line of a user's crontab. */
export interface CronJobOptions extends Relations {
  /**
   * The job's name, unique per user: it labels the line in the crontab
   * (`# depc cronjob <name>`) and in depc's reports. Letters, digits and `_ . -`.
   */
  readonly name: string;
  /**
   * When it runs: five fields (`"17 3 * * *"`: minute, hour, day of month,
   * month, day of week; numbers, `*`, ranges `1-5`, lists `1,15`, steps
   * `0-59/10`, month and day names `jan`, `mon`) or one of `@reboot`,
   * `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`,
   * `@hourly`.
   */
  readonly schedule: string;
  /**
   * The command line, run by cron with `/bin/sh -c` in the user's home
   * directory. One line; depc writes each `%` as `\%` (cron would turn it
   * into a newline and feed the rest to the command's stdin), so `date +%F`
   * means what it says.
   */
  readonly command: string;
  /**
   * Whose crontab (`crontab -u <user>`; the user must exist).
   * @default "root"
   */
  readonly user?: string;
}

export type CronJobResource = Resource<"cronjob", CronJobOptions>;

/**
 * A cron job: one line in a user's crontab. All CronJobs of a user on a
 * host are written together into one block that depc owns, between
 * `# BEGIN depc <env>` and `# END depc <env>` lines; the crontab's other
 * lines are kept byte for byte.
 *
 * ```ts
 * CronJob({ name: "clearsessions", schedule: "17 3 * * *", user: "app",
 *           command: "cd /srv/app && ./venv/bin/python manage.py clearsessions" });
 * ```
 */
export function CronJob(options: CronJobOptions): CronJobResource {
  return defineResource("cronjob", options, arguments[1]); // the compiler's site marker, if any
}
