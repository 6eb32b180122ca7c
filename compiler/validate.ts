import { diagnostic, show, type Diagnostic, type Note } from "./diagnostics/diagnostic.js";
import { settingLocation } from "./evaluate/setting-site.js";
import type { EnvironmentModel, HostModel, ResourceModel } from "./model.js";
import type { Argument, CheckedResource } from "../kinds/kind.js";
import { kindDefinition } from "../kinds/registry.js";
import { title } from "../kinds/checks.js";

export interface CheckedHost {
  readonly host: HostModel;
  /** In declaration order. */
  readonly resources: readonly CheckedResource[];
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** ssh arguments: no blanks or control characters, no leading `-` (option injection). */
const SSH_WORD = /^[^\s\u0000-\u001f\u007f-][^\s\u0000-\u001f\u007f]*$/;

/**
 * Phase 3: validate everything, collecting every problem instead of
 * stopping at the first, so a user fixes a model in one round.
 */
export function validate(env: EnvironmentModel): { hosts: CheckedHost[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const report = (d: Diagnostic) => diagnostics.push(d);
  if (!SAFE_NAME.test(env.name)) report(diagnostic("invalidEnvironmentName", { name: show(env.name) }, env.site));
  if (env.hosts.length === 0) report(diagnostic("noHosts", { name: show(env.name) }, env.site));
  const hosts: CheckedHost[] = [];
  for (const host of env.hosts) {
    checkHost(host, report);
    const resources: CheckedResource[] = [];
    for (const resource of host.resources) {
      const definition = kindDefinition(resource.kind);
      const checked = definition.check(resource, (d) => report(withSettingNotes(d, resource, host)));
      if (checked === undefined) continue;
      // Object.assign, not an object spread: V8's first runs of a spread went through its slow path (0.4 s for 102,000 resources).
      const resolved: CheckedResource = Object.assign({}, checked, { kind: definition.kind, definition, container: definition.container });
      if (checkContentSize(resolved, report)) resources.push(resolved);
    }
    checkPaths(host, resources, report);
    hosts.push({ host, resources });
  }
  return { hosts, diagnostics };
}

/**
 * A resource's value is often a setting's, set far from the resource (a
 * relative `root` in env/staging.ts): the diagnostic also points at the
 * line that set each non-default setting whose value it quotes.
 */
function withSettingNotes(d: Diagnostic, resource: ResourceModel, host: HostModel): Diagnostic {
  const owner = host.components.find((c) => c.id === resource.owner);
  if (owner === undefined) return d;
  const notes: Note[] = [];
  for (const [key, setting] of Object.entries(owner.settings)) {
    if (setting.source === "default" || setting.site === undefined) continue;
    if (typeof setting.value !== "string" || setting.value === "" || !d.message.includes(JSON.stringify(setting.value).slice(0, -1))) continue;
    const path = setting.source === "environment" ? ["settings", owner.component, key] : [key];
    notes.push({
      message: `${owner.component}.${key} is set to ${JSON.stringify(setting.value)} here (${setting.source === "environment" ? "environment settings" : `host ${host.name}`})`,
      location: settingLocation(setting.site, path),
    });
  }
  return notes.length === 0 ? d : { ...d, notes: [...d.notes, ...notes] };
}

/**
 * The most bytes one content may have in a bundle (see docs/resources.md,
 * "Large files"): measured with random binary content under the six shells
 * (test/runtime/large.test.ts keeps the limit working).
 */
export const MAX_CONTENT_BYTES = 8 * 1024 * 1024;

/** Whether every content of a resource fits in a bundle; reports the ones that do not. */
function checkContentSize(resource: CheckedResource, report: (d: Diagnostic) => void): boolean {
  let fits = true;
  const args = resource.lowered.args;
  for (const name in args) {
    const value = args[name];
    for (const arg of Array.isArray(value) ? (value as readonly Argument[]) : [value as Argument]) {
      if (typeof arg !== "object" || !("content" in arg) || arg.content.length <= MAX_CONTENT_BYTES) continue;
      fits = false;
      const size = arg.content.length;
      report(
        diagnostic(
          "contentTooLarge",
          { kind: title(resource.kind), path: show(resource.key), size: String(size), max: String(MAX_CONTENT_BYTES), maxMiB: String(MAX_CONTENT_BYTES / 1024 / 1024) },
          resource.model.site,
        ),
      );
    }
  }
  return fits;
}

function checkHost(host: HostModel, report: (d: Diagnostic) => void): void {
  const name = JSON.stringify(host.name);
  if (!SAFE_NAME.test(host.name)) report(diagnostic("invalidHostName", { host: name }, host.site));
  if (host.port !== undefined && !(Number.isInteger(host.port) && host.port >= 1 && host.port <= 65535)) {
    report(diagnostic("invalidPort", { host: name, port: show(host.port) }, host.site));
  }
  for (const [field, value] of [["address", host.address], ["user", host.user]] as const) {
    if (value !== undefined && (typeof value !== "string" || !SSH_WORD.test(value))) {
      report(diagnostic("invalidHostField", { host: name, field, value: show(value) }, host.site));
    }
  }
}

/**
 * One claim per key in each namespace (a path, a unit name, a command
 * name), and nothing below a path claimed by a file or a symlink.
 */
function checkPaths(host: HostModel, resources: readonly CheckedResource[], report: (d: Diagnostic) => void): void {
  const claims = new Map<string, CheckedResource>();
  const byPath = new Map<string, CheckedResource>();
  for (const resource of resources) {
    for (const key of [resource.key, ...(resource.alsoClaims ?? [])]) {
      const claim = `${resource.definition.claims}:${key}`;
      const first = claims.get(claim);
      if (first === undefined) {
        claims.set(claim, resource);
        if (resource.definition.claims === "path" && key === resource.key) byPath.set(resource.key, resource);
        continue;
      }
      report(
        diagnostic(
          "duplicatePath",
          { path: JSON.stringify(key), host: JSON.stringify(host.name), kind: resource.kind, otherKind: first.kind },
          resource.model.site,
          [{ message: `first declared here as ${first.kind}`, location: first.model.site }],
        ),
      );
      break;
    }
  }
  for (const resource of resources) {
    if (resource.definition.claims !== "path") continue;
    for (const parent of ancestors(resource.key)) {
      const holder = byPath.get(parent);
      if (holder === undefined || holder.container) continue;
      report(
        diagnostic(
          "pathUnderNonDirectory",
          {
            kind: resource.kind.charAt(0).toUpperCase() + resource.kind.slice(1),
            path: JSON.stringify(resource.key),
            parent: JSON.stringify(parent),
            host: JSON.stringify(host.name),
            parentKind: holder.kind,
          },
          resource.model.site,
          [{ message: `${parent} is declared here as ${holder.kind}`, location: holder.model.site }],
        ),
      );
      break;
    }
  }
}

/** `/a/b/c` → `/a/b`, `/a` (nearest first). */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let i = path.lastIndexOf("/"); i > 0; i = path.lastIndexOf("/", i - 1)) out.push(path.slice(0, i));
  return out;
}
