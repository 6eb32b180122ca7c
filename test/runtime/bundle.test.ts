/**
 * The runtime tests' bundles are the compiler's: the helper's bundle for a
 * list of resources is byte for byte what `depc build` writes for a model
 * declaring them, but for the declaration sites and the sources digest.
 */
import { describe, expect, it } from "vitest";
import { compileFiles } from "../support/project.js";
import { buildBundle } from "./bundle.js";

describe("test/runtime/bundle.ts", () => {
  it("builds what depc build writes for the same resources", async () => {
    const built = await compileFiles({
      "env/prod.ts": `import { environment, Directory, File, Symlink } from "depc";
export default environment({ hosts: { web1: [
  Directory({ path: "/srv/app", mode: "0750", owner: "root" }),
  File({ path: "/srv/app/a.txt", content: "it's $x\\n" }),
  File({ path: "/srv/app/bin", content: new Uint8Array([0, 1, 255]), mode: 0o600 }),
  Symlink({ path: "/srv/current", target: "/srv/app" }),
] } });
`,
    });
    expect(built.printed).toBe("");
    const helper = buildBundle({
      env: "prod",
      host: "web1",
      resources: [
        { kind: "directory", path: "/srv/app", mode: "0750", owner: "root" },
        { kind: "file", path: "/srv/app/a.txt", content: "it's $x\n" },
        { kind: "file", path: "/srv/app/bin", content: new Uint8Array([0, 1, 255]), mode: "0600" },
        { kind: "symlink", path: "/srv/current", target: "/srv/app" },
      ],
    });
    const normalize = (text: string) =>
      text
        .replace(/sha256:[0-9a-f]{64}/g, "sha256:SOURCES")
        .replace(/^(DEPC_VERSION=|# depc )\S+/gm, "$1VERSION")
        .replace(/\((?:env\/prod\.ts|test\.ts):\d+:\d+\)$/gm, "(SITE)");
    expect(normalize(helper)).toBe(normalize(built.bundles!.get("web1")!));
  });
});
