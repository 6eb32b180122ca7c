import { defineResource, type Relations, type Resource } from "../../model/resource.js";

/** Options of {@link VirtualEnv}. */
export interface VirtualEnvOptions extends Relations {
  /** Absolute path of the virtualenv on the host, e.g. `"/srv/app/venv"`. */
  readonly path: string;
  /**
   * The Python that makes the virtualenv (`python -m venv`): a program name
   * looked up on the host's PATH, or an absolute path. When the interpreter
   * behind it changes (another version or another installation), the
   * virtualenv is made again and the requirements reinstalled.
   * @default "python3"
   */
  readonly python?: string;
  /**
   * Let the virtualenv see the interpreter's own site packages
   * (`--system-site-packages`), e.g. libraries installed by the OS's
   * packages. Changing it makes the virtualenv again.
   * @default false
   */
  readonly systemSitePackages?: boolean;
  /**
   * What pip installs: each entry is one requirement line (`"Django==5.0.6"`,
   * `"-e /srv/app/src"`) or the content of a requirements file (several
   * lines, e.g. `readFileSync("requirements.txt", "utf8")`). pip runs only
   * when this list, `pipOptions` or the interpreter changed. Relative paths
   * are relative to the virtualenv's directory. Removing a requirement does
   * not uninstall it.
   * @default []
   */
  readonly requirements?: readonly string[];
  /**
   * Extra options for `pip install`, e.g. an offline install from a
   * wheelhouse: `["--no-index", "--find-links", "/srv/wheels"]`.
   * @default []
   */
  readonly pipOptions?: readonly string[];
}

export type VirtualEnvResource = Resource<"virtualenv", VirtualEnvOptions>;

/**
 * A Python virtual environment made with `python -m venv`, with pip
 * requirements installed into it. Made when missing or when its Python
 * changed; pip runs only when the requirements changed (the installed set
 * is recorded inside the virtualenv), after a `pip install --dry-run` that
 * must succeed first, so a broken requirement fails the run with pip's
 * message and leaves the virtualenv as it was. Resources below `path`
 * (files in it, a Buildout using its `bin/buildout`) come after it.
 *
 * ```ts
 * const venv = VirtualEnv({ path: "/srv/app/venv", requirements: ["gunicorn==22.0.0", "-e /srv/app/src"] });
 * ```
 */
export function VirtualEnv(options: VirtualEnvOptions): VirtualEnvResource {
  return defineResource("virtualenv", options, arguments[1]); // the compiler's site marker, if any
}
