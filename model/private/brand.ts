/**
 * Brands identify depc's model objects. They are registered symbols
 * (`Symbol.for`), not classes, so that two copies of depc in a user's
 * `node_modules` still recognise each other's objects (see STYLE.md).
 */
export const RESOURCE = Symbol.for("depc.resource");
export const ENVIRONMENT = Symbol.for("depc.environment");
export const COMPONENT = Symbol.for("depc.component");
export const COMPONENT_USE = Symbol.for("depc.component-use");
export const KEY = Symbol.for("depc.key");

export function hasBrand(value: unknown, brand: symbol): boolean {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}
export const DRAIN = Symbol.for("depc.drain");
