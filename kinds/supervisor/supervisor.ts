import type { Argv } from "../command/command.js";
import { defineResource, isResource, type Dependency, type Principal, type Relations, type Resource } from "../../model/resource.js";

/** The system's supervisord, as a distribution package installs it (Debian's `supervisor`). */
export interface SystemSupervisorOptions extends Relations {
  readonly flavour: "system";
  /**
   * The main config file; `supervisorctl -c` is always given it, so a
   * `supervisord.conf` in the working directory is never picked up.
   * @default "/etc/supervisor/supervisord.conf"
   */
  readonly config?: string;
  /**
   * Where program configs go (`<confDir>/<name>.conf`); the main config must include it.
   * @default "/etc/supervisor/conf.d"
   */
  readonly confDir?: string;
  /**
   * Directory holding `supervisorctl`.
   * @default found on PATH
   */
  readonly bin?: string;
}

/**
 * A supervisord of the deployment's own (batou's default): run as the user
 * who applies the bundle, from `base`, no root needed. depc writes
 * `<base>/supervisord.conf`, keeps program configs in `<base>/conf.d/`, logs
 * in `<base>/logs/`, the control socket at `<base>/supervisor.sock`, and
 * starts supervisord when it is not running.
 */
export interface UserSupervisorOptions extends Relations {
  readonly flavour: "user";
  /** Absolute directory of this supervisord, e.g. `"/home/app/deployment/supervisor"`. Created when missing. */
  readonly base: string;
  /**
   * Directory holding `supervisord` and `supervisorctl`, e.g. a virtualenv's `bin`.
   * @default found on PATH
   */
  readonly bin?: string;
}

export type SupervisorOptions = SystemSupervisorOptions | UserSupervisorOptions;

export type SupervisorResource = Resource<"supervisor", SupervisorOptions>;

/**
 * A supervisord that {@link Program}s attach to. The system flavour must be
 * running already (the distribution's service); the user flavour is started
 * by depc when it is not running.
 *
 * ```ts
 * const sup = Supervisor({ flavour: "user", base: "/home/app/deployment/supervisor" });
 * Program({ supervisor: sup, name: "web", command: ["/home/app/venv/bin/gunicorn", "app:wsgi"], whenChanged: [venv, settings] });
 * ```
 */
export function Supervisor(options: SupervisorOptions): SupervisorResource {
  return defineResource("supervisor", options, arguments[1]); // the compiler's site marker, if any
}

/** Options of {@link Program}: one `[program:<name>]` of a supervisord. */
export interface ProgramOptions extends Relations {
  /** The supervisord that runs it. The program is converged after it. */
  readonly supervisor: SupervisorResource;
  /** The program's name in supervisord and its config file's name (`<name>.conf`). */
  readonly name: string;
  /**
   * What supervisord runs: an argv list, or a string split into words like a
   * shell would (quotes honoured; operators, globs and `$` are rejected).
   * A relative program name is looked up on supervisord's PATH.
   */
  readonly command: Argv;
  /**
   * Working directory (absolute).
   * @default supervisord's own
   */
  readonly directory?: string;
  /**
   * Extra environment variables of the program.
   * @default {}
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Run as this user (needs a supervisord running as root).
   * @default supervisord's user
   */
  readonly user?: Principal;
  /**
   * Start it with supervisord, and keep it running: depc starts it when it is not running.
   * With `false`, depc never starts it, only restarts it when it runs and is notified.
   * @default true
   */
  readonly autostart?: boolean;
  /**
   * Stop (and kill) the whole process group, not only the main process.
   * @default false
   */
  readonly stopasgroup?: boolean;
  /**
   * Seconds the program must stay up to count as started (RUNNING). depc
   * waits up to `startsecs + 15` seconds for RUNNING after a (re)start.
   * @default 1
   */
  readonly startsecs?: number;
  /**
   * More `key=value` lines of the `[program:x]` section (`stopsignal`,
   * `stopwaitsecs`, `autorestart`, …). Values are written literally
   * (depc doubles `%`, so supervisor's `%(here)s` expansions are not available).
   * The fields above cannot be set here.
   * @default {}
   */
  readonly options?: Readonly<Record<string, string | number | boolean>>;
  /**
   * Cold deployment (batou's `deployment = "cold"`): the program must not run
   * while what it depends on changes. It is stopped right before the first
   * of these changes in a run, and started again when its own turn comes:
   * the resources of its top-level component that run before it (with
   * their sub-components), and the resources in `whenChanged`. Whether one
   * will change is checked on the host just before it runs, so a run that
   * changes nothing stops nothing. A run killed after the stop leaves the
   * start owed (in the state directory): the next run starts it.
   * @default false
   */
  readonly cold?: boolean;
  /**
   * Restart the program when one of these changed in this run (or in an
   * earlier run that failed before the restart): its config files, its
   * virtualenv, its code. A change of the program's own config restarts it too.
   * @default []
   */
  readonly whenChanged?: readonly Dependency[];
}

export type ProgramResource = Resource<"program", ProgramOptions>;

/**
 * A program run by a {@link Supervisor}: its config is written to the
 * supervisor's config directory; when it changed, `supervisorctl reread` and
 * `update` apply it (restarting the program); when notified, it is
 * restarted; after a (re)start depc waits until it is RUNNING or fails with
 * its last log lines. A run without changes only asks for its status.
 */
export function Program(options: ProgramOptions): ProgramResource {
  // Ordered after its supervisord, which must be on the same host (an error names it otherwise).
  const after = isResource(options.supervisor) ? [options.supervisor, ...(options.after ?? [])] : options.after;
  return defineResource("program", { ...options, after }, arguments[1]); // the compiler's site marker, if any
}
