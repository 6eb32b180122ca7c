import { hasBrand } from "./private/brand.js";
import { captureSites, type RawSite } from "./private/site.js";
import { SITES } from "./resource.js";

/** Brands (registered symbols, see private/brand.ts). */
export const SECRET = Symbol.for("depc.secret");
export const SECRET_TEXT = Symbol.for("depc.secret-text");
export const SECRET_MISUSE = Symbol.for("depc.secret-misuse");

/**
 * A reference to a value in the environment's encrypted secrets file
 * (`secrets/<env>.age`). It is not a string, and cannot become one by
 * accident: `String(s)`, `` `${s}` `` and `JSON.stringify(s)` throw. Use it as a
 * `File`'s `content`, or inside a {@link secretText} template.
 */
export interface Secret {
  readonly [SECRET]: true;
  readonly [SITES]: readonly RawSite[];
  /** The key in the secrets file, e.g. `"db.password"`. */
  readonly key: string;
  /**
   * How the stored value becomes bytes: `"utf8"` (text), or `"base64"` for
   * binary secrets (a keystore, a keytab), which must then be a File's whole content.
   * @default "utf8"
   */
  readonly encoding: SecretEncoding;
}

export type SecretEncoding = "utf8" | "base64";

export interface SecretOptions {
  /** @default "utf8" — see {@link Secret.encoding}. */
  readonly encoding?: SecretEncoding;
}

/** Text made of literal parts and secrets, from a {@link secretText} template. Not a string either. */
export interface SecretText {
  readonly [SECRET_TEXT]: true;
  readonly [SITES]: readonly RawSite[];
  /** Literal text and secrets, in order. */
  readonly parts: readonly (string | Secret)[];
}

/** What may hold secrets: file content. */
export type SecretContent = Secret | SecretText;

/** Thrown when a secret is turned into a string; the compiler reports it at the user's line. */
export class SecretMisuseError extends Error {
  readonly [SECRET_MISUSE]: true = true;
  constructor(message: string) {
    super(message);
    this.name = "SecretMisuseError";
  }
}

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function refuse(what: string): never {
  throw new SecretMisuseError(
    `${what} was turned into a string. A secret never becomes a plain string in the model: ` +
      "use it as a File's content (content: secret(\"key\")) or in a secretText template " +
      "(content: secretText`password=${secret(\"key\")}\\n`).",
  );
}

/** Frozen, with conversions to text that throw (not enumerable: tools that list the object's fields see only its data). */
function refusing<T extends object>(object: T, what: string): T {
  const no = { value: () => refuse(what), enumerable: false };
  return Object.freeze(Object.defineProperties(object, { toString: no, toJSON: no, [Symbol.toPrimitive]: no }));
}

/**
 * A secret of this environment's `secrets/<env>.age`, by key.
 * A key missing from the file is a build error at this line.
 *
 * ```ts
 * File({ path: "/srv/app/db.key", mode: 0o600, content: secret("db.key") })
 * File({ path: "/srv/app/app.ini", content: secretText`password = ${secret("db.password")}\n` })
 * ```
 */
export function secret(key: string, options: SecretOptions = {}): Secret {
  if (typeof key !== "string" || !KEY.test(key)) {
    throw new SecretMisuseError(`secret(${JSON.stringify(key) ?? String(key)}): a key is a name like "db.password" ([A-Za-z0-9_][A-Za-z0-9_.-]*).`);
  }
  const encoding = options.encoding ?? "utf8";
  if (encoding !== "utf8" && encoding !== "base64") {
    throw new SecretMisuseError(`secret(${JSON.stringify(key)}): encoding must be "utf8" or "base64".`);
  }
  return refusing({ [SECRET]: true as const, [SITES]: captureSites(), key, encoding }, `secret(${JSON.stringify(key)})`);
}

/**
 * A template of text and secrets: `` secretText`user = app\npassword = ${secret("db.password")}\n` ``.
 * Interpolated values must be secrets, other `secretText`s, strings or numbers.
 */
export function secretText(strings: TemplateStringsArray, ...values: readonly (Secret | SecretText | string | number)[]): SecretText {
  const parts: (string | Secret)[] = [];
  const push = (part: string | Secret) => {
    const last = parts[parts.length - 1];
    if (typeof part === "string" && typeof last === "string") parts[parts.length - 1] = last + part;
    else if (part !== "") parts.push(part);
  };
  strings.forEach((literal, i) => {
    push(literal);
    if (i >= values.length) return;
    const value = values[i];
    if (isSecret(value) && value.encoding === "base64") {
      throw new SecretMisuseError(`secretText: secret(${JSON.stringify(value.key)}, { encoding: "base64" }) is binary; use it as a File's whole content.`);
    } else if (isSecret(value)) push(value);
    else if (isSecretText(value)) value.parts.forEach(push);
    else if (typeof value === "string" || typeof value === "number") push(String(value));
    else throw new SecretMisuseError(`secretText: value ${i + 1} is a ${value === null ? "null" : typeof value}; interpolate secrets, strings or numbers.`);
  });
  return refusing({ [SECRET_TEXT]: true as const, [SITES]: captureSites(), parts: Object.freeze(parts) }, "secretText`...`");
}

export function isSecret(value: unknown): value is Secret {
  return hasBrand(value, SECRET);
}

export function isSecretText(value: unknown): value is SecretText {
  return hasBrand(value, SECRET_TEXT);
}

/** Whether a thrown value is a secret misuse (by brand: two copies of depc agree). */
export function isSecretMisuse(value: unknown): value is Error {
  return hasBrand(value, SECRET_MISUSE);
}
