/**
 * While depc runs a component's build function, resources and components
 * created in it belong to that component (batou's `self += ...`, without
 * the `+=`). The compiler sets the current scope; the stdlib only reports
 * to it. It lives on a registered symbol so that two copies of depc agree.
 */
export interface Scope {
  add(item: object): void;
}

const SCOPE = Symbol.for("depc.scope");

export function currentScope(): Scope | undefined {
  return (globalThis as Record<symbol, Scope | undefined>)[SCOPE];
}

export function withScope<T>(scope: Scope, run: () => T): T {
  const holder = globalThis as Record<symbol, Scope | undefined>;
  const saved = holder[SCOPE];
  holder[SCOPE] = scope;
  try {
    return run();
  } finally {
    holder[SCOPE] = saved;
  }
}
