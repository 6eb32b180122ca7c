/**
 * Ordering of collected kinds (KindDefinition.collect, compiler/order.ts):
 * a group runs where all of its members may, its members next to each other
 * in declaration order; a group that must run both before and after
 * something is a cycle. With test-only kinds (no kind of depc is needed).
 */
import { describe, expect, it } from "vitest";
import type { EnvironmentModel, HostModel, ResourceModel } from "../../compiler/model.js";
import { orderEnvironment } from "../../compiler/order.js";
import type { CheckedResource, KindDefinition } from "../../kinds/kind.js";
import { collectedTestKind } from "../runtime/bundle.js";

/** A directory-like test kind: claims a path, may hold others. */
const containerKind: KindDefinition = { ...collectedTestKind, kind: "box", claims: "path", container: true, collect: undefined };
/** The collected test kind, claiming paths (so directories order it) and holding others (for the cycle). */
const pathCollected: KindDefinition = { ...collectedTestKind, claims: "path", container: true };

function resource(definition: KindDefinition, key: string, declarationIndex: number, group = "g"): CheckedResource {
  const model: ResourceModel = { kind: definition.kind, props: { group }, site: { file: "env.ts", line: declarationIndex + 1, column: 3 }, declarationIndex, owner: undefined, origin: {} };
  return { model, kind: definition.kind, definition, key, container: definition.container, lowered: { call: "depc_test_group", args: { keys: [key] } } };
}

function order(resources: CheckedResource[]) {
  const host: HostModel = { name: "h", address: "h", user: undefined, port: undefined, data: {}, resources: resources.map((r) => r.model), components: [], site: undefined };
  const env: EnvironmentModel = { name: "t", hosts: [host], site: undefined, wiring: [] };
  return orderEnvironment(env, [{ host, resources }]);
}

describe("collected kinds in the run order", () => {
  it("a group runs once all of its members may, its members together in declaration order", () => {
    const ordered = order([
      resource(pathCollected, "/a", 0),
      resource(containerKind, "/x", 1),
      resource(pathCollected, "/d/b", 2),
      resource(containerKind, "/d", 3),
      resource(pathCollected, "/c", 4, "other"),
    ]);
    expect(ordered.diagnostics).toEqual([]);
    // Without groups: /a, /x, /d, /d/b, /c. /a waits for /d/b's directory.
    expect(ordered.hosts.get("h")!.map((r) => r.key)).toEqual(["/x", "/d", "/a", "/d/b", "/c"]);
  });

  it("a group that must run before and after one resource is a cycle naming its members", () => {
    // /m is a member that holds /m/box, which holds /m/box/n, the group's other member.
    const ordered = order([resource(pathCollected, "/m", 0), resource(containerKind, "/m/box", 1), resource(pathCollected, "/m/box/n", 2)]);
    expect(ordered.hosts.has("h")).toBe(false);
    expect(ordered.diagnostics.map((d) => [d.code, d.message, d.notes.map((n) => n.message)])).toEqual([
      [
        "DEPC4004",
        'Dependency cycle on host "h": collected /m + collected /m/box/n => box /m/box => collected /m + collected /m/box/n',
        ["/m contains it", "/m/box contains it"],
      ],
    ]);
  });
});
