import { defineResource, type Relations, type Mode, type Principal, type Resource } from "../../model/resource.js";
import type { SecretContent } from "../../model/secret.js";

interface FileCommonOptions extends Relations {
  /** Absolute path of the file on the host, e.g. `"/srv/app/app.ini"`. */
  readonly path: string;
  /**
   * Permission bits of the file.
   * @default 0o644
   */
  readonly mode?: Mode;
  /**
   * Owner of the file. Left as it is when not given.
   * @default unmanaged
   */
  readonly owner?: Principal;
  /**
   * Group of the file. Left as it is when not given.
   * @default unmanaged
   */
  readonly group?: Principal;
}

/** Options of {@link File}. */
export interface FileOptions extends FileCommonOptions {
  /**
   * The exact content: a string is written as UTF-8, a `Uint8Array` byte for byte.
   * Nothing is added: no trailing newline unless the string has one.
   * Render it from typed values with {@link template}.
   * A `secret("key")` or a `` secretText`...` `` makes the file secret: it is
   * written with its owner and mode set before any content, and never diffed.
   */
  readonly content: string | Uint8Array | SecretContent;
}

/** The options a file resource holds. */
export type FileProps = FileOptions;

export type FileResource = Resource<"file", FileProps>;

/**
 * A regular file with exact content, mode and (optionally) owner and group.
 * Written atomically on the host: readers see the old or the new file, never a part.
 *
 * ```ts
 * File({ path: "/etc/motd", content: "Welcome\n" })
 * File({ path: "/srv/app/app.ini", content: template((v: { port: number }) => `port = ${v.port}\n`, { port: 8080 }) })
 * ```
 */
export function File(options: FileOptions): FileResource {
  return defineResource("file", options, arguments[1]); // the compiler's site marker, if any
}

/**
 * Renders content from typed values, at build time: the type of `vars` is
 * checked against what `render` takes, so a template and its values cannot
 * drift apart unnoticed.
 *
 * ```ts
 * const ini = (v: { port: number; workers: number }) => `port = ${v.port}\nworkers = ${v.workers}\n`;
 * File({ path: "/srv/app/app.ini", content: template(ini, { port: s.port, workers: s.workers }) })
 * ```
 */
export function template<Vars, Out extends string | SecretContent>(render: (vars: Vars) => Out, vars: Vars): Out {
  return render(vars);
}
