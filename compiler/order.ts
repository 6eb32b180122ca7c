import type { CheckedResource } from "./resources/kind.js";
import type { CheckedHost } from "./validate.js";
import { ancestors } from "./validate.js";

/**
 * Phase 4: a stable topological order per host. A resource comes after the
 * directories declared above it; everything else keeps declaration order.
 * Among resources that are free to go, the earliest declared goes first,
 * so the order never depends on map iteration or hashing.
 */
export function orderHost(host: CheckedHost): CheckedResource[] {
  const resources = host.resources;
  const indexOf = new Map(resources.map((r, i) => [r.key, i] as const));
  const successors: number[][] = resources.map(() => []);
  const pending = resources.map(() => 0);
  resources.forEach((resource, i) => {
    for (const parent of ancestors(resource.key)) {
      const p = indexOf.get(parent);
      if (p === undefined || !resources[p]!.container) continue;
      successors[p]!.push(i);
      pending[i]!++;
    }
  });
  const ready = new MinHeap();
  pending.forEach((count, i) => count === 0 && ready.push(i));
  const order: CheckedResource[] = [];
  for (let i = ready.pop(); i !== undefined; i = ready.pop()) {
    order.push(resources[i]!);
    for (const next of successors[i]!) if (--pending[next]! === 0) ready.push(next);
  }
  // Parent-directory edges always point to a shorter path, so they cannot form a cycle.
  if (order.length !== resources.length) throw new Error("depc: cycle in parent-directory ordering");
  return order;
}

/** A binary min-heap of declaration indices. */
class MinHeap {
  private readonly items: number[] = [];
  push(value: number): void {
    const items = this.items;
    items.push(value);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= items[i]!) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }
  pop(): number | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && items[l]! < items[m]!) m = l;
        if (r < items.length && items[r]! < items[m]!) m = r;
        if (m === i) break;
        [items[m], items[i]] = [items[i]!, items[m]!];
        i = m;
      }
    }
    return top;
  }
}
