import { defineResource, type Relations, type Mode, type Principal, type Resource } from "./resource.js";
import type { SecretContent } from "./secret.js";

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

interface FileContentOptions {
  /**
   * The exact content: a string is written as UTF-8, a `Uint8Array` byte for byte.
   * Nothing is added: no trailing newline unless the string has one.
   * A `secret("key")` or a `` secretText`...` `` makes the file secret: it is
   * written with its owner and mode set before any content, and never diffed.
   */
  readonly content: string | Uint8Array | SecretContent;
  readonly template?: never;
  readonly vars?: never;
}

interface FileTemplateOptions<Vars> {
  /** Renders the content from `vars`; called once, at build time. */
  readonly template: (vars: Vars) => string | SecretContent;
  /** The values the template renders; their type is checked against the template. */
  readonly vars: Vars;
  readonly content?: never;
}

/** Options of {@link File}: a path and either `content` or a `template` with its `vars`. */
export type FileOptions<Vars = never> = FileCommonOptions & (FileContentOptions | FileTemplateOptions<Vars>);

/** The options a file resource holds once its content is known. */
export interface FileProps extends FileCommonOptions {
  readonly content: string | Uint8Array | SecretContent;
}

export type FileResource = Resource<"file", FileProps>;

/**
 * A regular file with exact content, mode and (optionally) owner and group.
 * Written atomically on the host: readers see the old or the new file, never a part.
 *
 * ```ts
 * File({ path: "/etc/motd", content: "Welcome\n" })
 * File({ path: "/srv/app/app.ini", template: (v) => `port = ${v.port}\n`, vars: { port: 8080 } })
 * ```
 */
export function File<Vars = never>(options: FileOptions<Vars>): FileResource {
  const { template, vars, content, ...common } = options as FileCommonOptions & {
    template?: (vars: Vars) => string | SecretContent;
    vars?: Vars;
    content?: string | Uint8Array | SecretContent;
  };
  const rendered = typeof template === "function" ? template(vars as Vars) : content;
  return defineResource("file", { ...common, content: rendered as string | Uint8Array | SecretContent });
}
