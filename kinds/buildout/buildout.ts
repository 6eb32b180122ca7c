import { defineResource, type Dependency, type Relations, type Resource } from "../../model/resource.js";
import type { VirtualEnvResource } from "../virtualenv/virtualenv.js";

/** Options of {@link Buildout}. */
export interface BuildoutOptions extends Relations {
  /** Absolute path of the buildout's directory; it must exist (declare a `Directory` for it). */
  readonly directory: string;
  /** The content of `buildout.cfg`, written to `directory` like a `File` (atomically). */
  readonly config: string;
  /**
   * More configuration files next to `buildout.cfg` (`extends = versions.cfg`),
   * by file name: `{ "versions.cfg": "[versions]\n..." }`.
   * @default {}
   */
  readonly extraFiles?: Readonly<Record<string, string>>;
  /**
   * The buildout program: a name looked up on the host's PATH, an absolute
   * path, or a `VirtualEnv` (its `bin/buildout`; the buildout then also runs
   * again whenever that virtualenv changed).
   * @default "buildout"
   */
  readonly executable?: string | VirtualEnvResource;
  /**
   * Run buildout offline (`-o`): no downloads, only what is already there.
   * @default false
   */
  readonly offline?: boolean;
  /**
   * Seconds before buildout is stopped and the run fails (needs `timeout` on the host).
   * @default no limit
   */
  readonly timeout?: number;
  /**
   * Run buildout again when one of these changed in this run (or in an
   * earlier run that failed before buildout ran). Components stand for all
   * their resources.
   * @default []
   */
  readonly whenChanged?: readonly Dependency[];
}

export type BuildoutResource = Resource<"buildout", BuildoutOptions>;

/**
 * A zc.buildout: writes `buildout.cfg` (and `extraFiles`) into `directory`
 * and runs `buildout -c buildout.cfg` there — only when a config or an
 * input (executable, offline) changed, when a `whenChanged` dependency
 * changed, or when the last run did not complete (a marker,
 * `.depc-buildout`, is written after a successful run). Reported on the
 * host as `buildout DIRECTORY/buildout.cfg`.
 *
 * ```ts
 * Buildout({ directory: "/srv/app", config: cfg, executable: venv, offline: true, timeout: 600 })
 * ```
 */
export function Buildout(options: BuildoutOptions): BuildoutResource {
  return defineResource("buildout", options, arguments[1]); // the compiler's site marker, if any
}
