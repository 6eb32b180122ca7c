import { diagnostic, show, type Diagnostic } from "./diagnostics/diagnostic.js";
import type { EnvironmentModel, HostModel } from "./model.js";
import type { CheckedResource } from "./resources/kind.js";
import { resourceKinds } from "./resources/index.js";

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
      const kind = resourceKinds.get(resource.kind);
      const checked = kind?.check(resource, report);
      if (checked !== undefined && checkContentSize(checked, report)) resources.push(checked);
    }
    checkPaths(host, resources, report);
    hosts.push({ host, resources });
  }
  return { hosts, diagnostics };
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
  for (const arg of resource.lowered.args) {
    if (typeof arg !== "object" || !("content" in arg) || arg.content.length <= MAX_CONTENT_BYTES) continue;
    fits = false;
    const size = arg.content.length;
    report(
      diagnostic(
        "contentTooLarge",
        { kind: kindName(resource.kind), path: show(resource.key), size: String(size), max: String(MAX_CONTENT_BYTES), maxMiB: String(MAX_CONTENT_BYTES / 1024 / 1024) },
        resource.model.site,
      ),
    );
  }
  return fits;
}

function kindName(kind: string): string {
  return kind === "virtualenv" ? "VirtualEnv" : kind.charAt(0).toUpperCase() + kind.slice(1);
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

/** One declaration per path, and nothing below a file or a symlink. */
function checkPaths(host: HostModel, resources: readonly CheckedResource[], report: (d: Diagnostic) => void): void {
  const byKey = new Map<string, CheckedResource>();
  for (const resource of resources) {
    const first = byKey.get(resource.key);
    if (first === undefined) {
      byKey.set(resource.key, resource);
      continue;
    }
    report(
      diagnostic(
        "duplicatePath",
        { path: JSON.stringify(resource.key), host: JSON.stringify(host.name), kind: resource.kind, otherKind: first.kind },
        resource.model.site,
        [{ message: `first declared here as ${first.kind}`, location: first.model.site }],
      ),
    );
  }
  for (const resource of resources) {
    for (const parent of ancestors(resource.key)) {
      const holder = byKey.get(parent);
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
