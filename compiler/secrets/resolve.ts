/**
 * Between evaluate and validate: replaces every secret reference in the
 * model by its value, and marks the resources that then hold secrets. Only
 * the fields a kind's definition lists in `secrets.fields` may hold them
 * (File content; a Command's argv and env, masked in its reports); anywhere
 * else is a diagnostic (a secret in a path or a link target would be shown
 * by reports).
 * When the model uses no secret, nothing is read and nothing changes.
 */
import { createHash, createHmac } from "node:crypto";
import { existsSync } from "node:fs";
import { relative } from "node:path";
import { diagnostic, type Diagnostic, type Location } from "../diagnostics/diagnostic.js";
import type { EnvironmentModel, HostModel, ResourceModel } from "../model.js";
import { RESOURCE, COMPONENT, COMPONENT_USE, KEY, hasBrand } from "../../model/private/brand.js";
import { isSecret, isSecretText, type Secret, type SecretText } from "../../model/secret.js";
import { FINGERPRINT_KEY, SecretsError, loadIdentities, readSecrets, secretsPaths, type IdentityOptions } from "./store.js";
import { markSensitive, secretSite } from "./sensitive.js";
import { kindDefinition } from "../../kinds/registry.js";

export interface ResolveOptions extends IdentityOptions {
  readonly projectRoot: string;
  /** Decrypt nothing: every secret reads `(secret KEY)` (for inspect and graph, which show no content). */
  readonly placeholders?: boolean;
}

export type ResolveResult = { readonly ok: true; readonly environment: EnvironmentModel } | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

interface Use {
  readonly secret: Secret;
  readonly resource: ResourceModel;
  readonly field: string;
}

export async function resolveSecrets(environment: EnvironmentModel, options: ResolveOptions): Promise<ResolveResult> {
  const uses: Use[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const host of environment.hosts) {
    for (const resource of host.resources) {
      for (const [field, value] of Object.entries(resource.props)) {
        const rules = kindDefinition(resource.kind).secrets;
        const allowed = rules?.fields.includes(field) === true;
        const argv = rules?.argvFields?.includes(field) === true;
        visit(value, (found) => {
          const secrets = isSecret(found) ? [found] : found.parts.filter(isSecret);
          if (!allowed) {
            const where = `${title(resource.kind)} ${describeKey(resource)}`;
            diagnostics.push(diagnostic("secretNotAllowed", { where, field }, resource.site));
            return;
          }
          // The program's name is shown everywhere (it is how a command is recognised): never a secret.
          if (argv && Array.isArray(value) && found === value[0]) {
            diagnostics.push(diagnostic("secretNotAllowed", { where: `${title(resource.kind)} ${describeKey(resource)}`, field: "the program's name (the first word)" }, resource.site));
            return;
          }
          for (const secret of secrets) uses.push({ secret, resource, field });
        });
      }
    }
  }
  if (diagnostics.length > 0) return { ok: false, diagnostics };
  if (uses.length === 0) return { ok: true, environment };

  const paths = secretsPaths(options.projectRoot, environment.name);
  const shownFile = relative(options.projectRoot, paths.file);
  const at = (use: Use): Location | undefined => secretSite(use.secret) ?? use.resource.site;
  const loaded = options.placeholders === true ? new Map(uses.map((u) => [u.secret.key, `(secret ${u.secret.key})`])) : await loadValues(uses, paths, shownFile, environment.name, options, at);
  if (!(loaded instanceof Map)) return loaded;
  const values = loaded;
  const known = [...values.keys()].filter((k) => k !== FINGERPRINT_KEY).sort();
  for (const use of uses) {
    if (use.secret.key === FINGERPRINT_KEY || !values.has(use.secret.key)) {
      diagnostics.push(
        diagnostic("secretKeyMissing", { key: JSON.stringify(use.secret.key), file: shownFile, known: known.join(", ") || "none", env: environment.name }, at(use)),
      );
    }
  }
  for (const use of uses) {
    const value = values.get(use.secret.key);
    if (use.secret.encoding === "base64" && value !== undefined && options.placeholders !== true && decodeBase64(value) === undefined) {
      diagnostics.push(diagnostic("secretNotBase64", { key: JSON.stringify(use.secret.key), file: shownFile }, at(use)));
    }
    if (use.secret.encoding === "base64" && use.field !== "content") {
      diagnostics.push(diagnostic("secretNotAllowed", { where: `${title(use.resource.kind)} ${describeKey(use.resource)}`, field: `${use.field} (a base64 secret is binary)` }, at(use)));
    }
  }
  if (diagnostics.length > 0) return { ok: false, diagnostics };

  const saltKey = fingerprintKey(values);
  const hosts: HostModel[] = environment.hosts.map((host) => {
    let changed = false;
    const salt = createHmac("sha256", saltKey).update(`depc fingerprint salt\0${environment.name}\0${host.name}`).digest("hex");
    const resources = host.resources.map((resource) => {
      const found = { used: [] as string[], any: false };
      const props: Record<string, unknown> = { ...resource.props };
      for (const field of kindDefinition(resource.kind).secrets?.fields ?? []) {
        if (props[field] !== undefined) props[field] = substitute(props[field], values, found);
      }
      if (!found.any) return resource;
      const used = found.used;
      changed = true;
      const resolved: ResourceModel = { ...resource, props: Object.freeze(props) };
      markSensitive(resolved, { values: used, salt });
      return resolved;
    });
    return changed ? { ...host, resources } : host;
  });
  return { ok: true, environment: { ...environment, hosts } };
}

async function loadValues(
  uses: readonly Use[],
  paths: ReturnType<typeof secretsPaths>,
  shownFile: string,
  env: string,
  options: ResolveOptions,
  at: (use: Use) => Location | undefined,
): Promise<Map<string, string> | ResolveResult> {
  if (!existsSync(paths.file)) {
    return { ok: false, diagnostics: [diagnostic("secretsFileMissing", { key: JSON.stringify(uses[0]!.secret.key), file: shownFile, env }, at(uses[0]!))] };
  }
  try {
    return await readSecrets(paths, loadIdentities(options));
  } catch (error) {
    if (!(error instanceof SecretsError)) throw error;
    return { ok: false, diagnostics: [diagnostic("secretsUnreadable", { reason: error.message }, at(uses[0]!))] };
  }
}

/**
 * The key of the fingerprints --check shows: from the document's random
 * `$fingerprint` entry when it has one (depc secrets edit adds it), else
 * from all of the document's values together — never from one value alone.
 */
function fingerprintKey(values: ReadonlyMap<string, string>): Buffer {
  const hash = createHash("sha256").update("depc fingerprint key v1\0");
  const seed = values.get(FINGERPRINT_KEY);
  if (seed !== undefined) return hash.update(seed).digest();
  for (const key of [...values.keys()].sort()) hash.update(key).update("\0").update(values.get(key)!).update("\0");
  return hash.digest();
}

/**
 * A secret field's value with its secrets replaced: a whole value (a File's
 * content), or the items of a list (an argv) or the values of an object
 * (an env); the values used are added to `found.used`.
 */
function substitute(value: unknown, values: ReadonlyMap<string, string>, found: { used: string[]; any: boolean }): unknown {
  const secretLike = (v: unknown) => isSecret(v) || isSecretText(v);
  if (isSecret(value) || isSecretText(value)) {
    const rendered = render(value, values);
    found.used.push(...rendered.used);
    found.any = true;
    return rendered.text;
  }
  if (Array.isArray(value)) return value.map((v) => (secretLike(v) ? substitute(v, values, found) : v));
  if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, secretLike(v) ? substitute(v, values, found) : v]));
  }
  return value;
}

function render(content: Secret | SecretText, values: ReadonlyMap<string, string>): { text: string | Uint8Array; used: string[] } {
  if (isSecret(content) && content.encoding === "base64") {
    const value = values.get(content.key)!;
    return { text: decodeBase64(value) ?? new TextEncoder().encode(value), used: [value] };
  }
  const parts = isSecret(content) ? [content] : content.parts;
  const used: string[] = [];
  const text = parts
    .map((part) => {
      if (typeof part === "string") return part;
      const value = values.get(part.key)!;
      used.push(value);
      return value;
    })
    .join("");
  return { text, used };
}

/** Strict base64 (whitespace and line breaks allowed), or undefined. */
function decodeBase64(value: string): Uint8Array | undefined {
  const compact = value.replace(/\s+/g, "");
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(compact)) return undefined;
  return new Uint8Array(Buffer.from(compact, "base64"));
}

/** Finds secrets in plain data (arrays, plain objects); other depc objects are references, not data. */
function visit(value: unknown, found: (s: Secret | SecretText) => void, seen = new Set<object>()): void {
  if (typeof value !== "object" || value === null || seen.has(value)) return;
  seen.add(value);
  if (isSecret(value) || isSecretText(value)) return found(value);
  if ([RESOURCE, COMPONENT, COMPONENT_USE, KEY].some((brand) => hasBrand(value, brand))) return;
  if (Array.isArray(value)) return value.forEach((v) => visit(v, found, seen));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return;
  for (const v of Object.values(value)) visit(v, found, seen);
}

const title = (kind: string) => kind.charAt(0).toUpperCase() + kind.slice(1);

function describeKey(resource: ResourceModel): string {
  const { path, name } = resource.props as { path?: unknown; name?: unknown };
  return typeof path === "string" ? JSON.stringify(path) : typeof name === "string" ? JSON.stringify(name) : "";
}
