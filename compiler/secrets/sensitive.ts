/**
 * Which parts of the compiler's model hold secrets. Kept beside the model
 * (by object identity) rather than in it, so that the plain-data model and
 * the phases that do not care stay as they are.
 */
import type { Location } from "../diagnostics/diagnostic.js";
import type { HostModel, ResourceModel } from "../model.js";
import type { Secret } from "../../model/secret.js";

export interface Sensitivity {
  /** The secret values the resource holds (for scans and masking; never printed). */
  readonly values: readonly string[];
  /** Per-host salt of the fingerprints that --check shows instead of a diff (hex). */
  readonly salt: string;
}

const sensitive = new WeakMap<object, Sensitivity>();
const sites = new WeakMap<Secret, Location>();

export function markSensitive(resource: ResourceModel, info: Sensitivity): void {
  sensitive.set(resource, info);
}

/** How a resource holds secrets, or undefined when it holds none. */
export function sensitivityOf(resource: ResourceModel): Sensitivity | undefined {
  return sensitive.get(resource);
}

export function hostHasSecrets(host: HostModel): boolean {
  return host.resources.some((r) => sensitive.has(r));
}

/** Where a `secret("...")` call is in the user's source (recorded by evaluate). */
export function recordSecretSite(secret: Secret, location: Location | undefined): void {
  if (location !== undefined) sites.set(secret, location);
}

export function secretSite(secret: Secret): Location | undefined {
  return sites.get(secret);
}
