import type { Argv } from "../command/command.js";
import type { HealthProbe } from "../healthcheck/healthcheck.js";
import { defineResource, isResource, type Dependency, type Resource } from "../../model/resource.js";

/**
 * How systemd restarts the service's process when it exits (`Restart=`,
 * see systemd.service(5)).
 */
export type RestartPolicy = "no" | "on-success" | "on-failure" | "on-abnormal" | "on-watchdog" | "on-abort" | "always";

/** How systemd decides the service has started (`Type=`, see systemd.service(5)). */
export type ServiceType = "simple" | "exec" | "forking" | "oneshot" | "dbus" | "notify" | "idle";

/** A systemd unit: its name (`"network-online.target"`), or a {@link Service} of the same host. */
export type UnitRef = string | ServiceResource;

/** A value of a free unit-file setting: written as it is; a list gives one line per item. */
export type UnitValue = string | number | boolean | readonly (string | number)[];

interface ServiceCommonOptions {
  /**
   * The unit's name: `"web"` or `"web.service"` (the same unit). The unit
   * file is `/etc/systemd/system/<name>.service`.
   */
  readonly name: string;
  /**
   * Started at boot (`systemctl enable`); `false` disables it.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Running now (`systemctl start`); `false` stops it.
   * @default true
   */
  readonly running?: boolean;
  /**
   * When notified (see `whenChanged`), reload (`systemctl reload`, the
   * unit's `ExecReload=`) instead of restarting — if the unit can reload;
   * otherwise it is restarted. A changed unit file always restarts.
   * @default false
   */
  readonly reload?: boolean;
  /**
   * Restart (or reload) the running service when one of these changed in
   * this run — or in an earlier run that failed before the restart (the
   * restart is owed and remembered on the host). Components stand for all
   * their resources. The service is ordered after them.
   * @default []
   */
  readonly whenChanged?: readonly Dependency[];
  /**
   * Resources or components (their instances on the same host) to converge after this one.
   * @default []
   */
  readonly before?: readonly Dependency[];
  /**
   * A check that must pass after every start, restart or reload depc
   * does, e.g. `{ http: { url: "http://127.0.0.1:8000/health" } }`. When it
   * fails, the run fails with the check's last output and the restart stays
   * owed: the next run restarts and checks again.
   * @default no check (only systemd's start and `stableSeconds`)
   */
  readonly health?: HealthProbe;
  /**
   * After a start, restart or reload (and its health check), the service
   * must still be active, with the same main process and no restart by
   * systemd (`NRestarts`), this many seconds after `systemctl` returned, or
   * the run fails with its last journal lines: a service that crash-loops
   * under `Restart=` fails the run that started it. Each (re)start costs up
   * to this long; 0 turns the check off.
   * @default 3
   */
  readonly stableSeconds?: number;
}

/** A service whose whole unit file is given. */
export interface ServiceUnitOptions extends ServiceCommonOptions {
  /**
   * The unit file's exact content (a string written as UTF-8, like
   * `File`'s content). With `enabled` (the default) it needs an `[Install]`
   * section with `WantedBy=` (or `RequiredBy=`, `UpheldBy=`, `Alias=`).
   */
  readonly unit: string;
  /**
   * Resources or components (their instances on the same host) to converge
   * before this one. Ordering of units belongs in the unit's own `After=`.
   * @default []
   */
  readonly after?: readonly Dependency[];
  readonly description?: never;
  readonly execStart?: never;
  readonly type?: never;
  readonly user?: never;
  readonly group?: never;
  readonly environment?: never;
  readonly workingDirectory?: never;
  readonly restart?: never;
  readonly wants?: never;
  readonly wantedBy?: never;
  readonly extra?: never;
}

/**
 * A service whose unit file depc writes from typed fields, quoted and
 * escaped by systemd's rules (`%` specifiers, `$` expansion and quotes in
 * `ExecStart=` never reach systemd as syntax).
 */
export interface ServiceTypedOptions extends ServiceCommonOptions {
  readonly unit?: never;
  /**
   * `Description=`: what `systemctl status` shows.
   * @default the unit's name
   */
  readonly description?: string;
  /**
   * `ExecStart=`: the program and its arguments, an argv list or a string
   * split like a shell would (quotes honoured; operators, globs and `$`
   * rejected). The program is an absolute path or a bare name that systemd
   * finds in its fixed search path.
   */
  readonly execStart: Argv;
  /**
   * `Type=`. `exec` makes `systemctl start` fail when the program cannot
   * be run (missing binary, unknown user), so the deployment fails there.
   * @default "exec"
   */
  readonly type?: ServiceType;
  /**
   * `User=`: run as this user (a name or a numeric id).
   * @default root
   */
  readonly user?: string | number;
  /**
   * `Group=`: run with this group.
   * @default the user's primary group
   */
  readonly group?: string | number;
  /**
   * `Environment=`: variables for the process, one `Environment=` line each.
   * @default {}
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * `WorkingDirectory=` (absolute).
   * @default "/" (systemd's default)
   */
  readonly workingDirectory?: string;
  /**
   * `Restart=`.
   * @default "on-failure"
   */
  readonly restart?: RestartPolicy;
  /**
   * Converged before this service. Strings are unit names and become
   * `After=` (`"network-online.target"`); a {@link Service} is both
   * converged first by depc and named in `After=`; other resources and
   * components are only converged first.
   * @default []
   */
  readonly after?: readonly (Dependency | string)[];
  /**
   * `Wants=`: units started along with this one.
   * @default []
   */
  readonly wants?: readonly UnitRef[];
  /**
   * `WantedBy=` in `[Install]`: what `enabled` hooks the service into. An
   * empty list writes no `[Install]` section (then `enabled` must be false).
   * @default "multi-user.target"
   */
  readonly wantedBy?: UnitRef | readonly UnitRef[];
  /**
   * More settings, by section (`Unit`, `Service`, `Install` or an `X-`
   * section) and key: `{ Service: { LimitNOFILE: 65536, ExecStartPre: ["/bin/a", "/bin/b"] } }`.
   * Values are written as they are (systemd's own syntax and `%`
   * specifiers apply); `true`/`false` become `yes`/`no`; a list gives one
   * line per item. The typed fields' keys are not accepted here.
   * @default {}
   */
  readonly extra?: Readonly<Record<string, Readonly<Record<string, UnitValue>>>>;
}

/** Options of {@link Service}: a name and either the whole `unit` or typed fields with `execStart`. */
export type ServiceOptions = ServiceUnitOptions | ServiceTypedOptions;

/**
 * The options a service resource holds: `after` keeps only what depc
 * orders; its unit names are in `afterUnits`.
 */
export type ServiceProps = Omit<ServiceOptions, "after"> & {
  readonly after?: readonly Dependency[];
  readonly afterUnits?: readonly UnitRef[];
};

export type ServiceResource = Resource<"service", ServiceProps>;

/**
 * A systemd service: its unit file in `/etc/systemd/system`, enabled and
 * running (or not) as stated. The unit file is written atomically;
 * `systemctl daemon-reload` runs only when it changed. A running service is
 * restarted when its unit changed, and restarted or reloaded when something
 * in `whenChanged` changed. On a host without systemd the run fails and
 * says so.
 *
 * ```ts
 * Service({ name: "web", execStart: [`${venv}/bin/gunicorn`, "app:wsgi"], user: "app", whenChanged: [settings] })
 * Service({ name: "legacy", unit: legacyUnitText, enabled: false })
 * ```
 */
export function Service(options: ServiceOptions): ServiceResource {
  const { after, ...rest } = options as ServiceCommonOptions & { after?: readonly (Dependency | string)[] };
  if (after === undefined) return defineResource("service", rest as ServiceProps, arguments[1]); // the compiler's site marker, if any
  return defineResource("service", {
    ...rest,
    after: after.filter((a): a is Dependency => typeof a !== "string"),
    afterUnits: after.filter((a) => typeof a === "string" || (isResource(a) && a.kind === "service")) as UnitRef[],
  } as ServiceProps, arguments[1]); // the compiler's site marker, if any
}
