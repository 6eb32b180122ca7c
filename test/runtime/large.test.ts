/**
 * Large content (issue 13, finding 10): a file at the build-time limit
 * (compiler/validate.ts MAX_CONTENT_BYTES, DEPC2019 above it) of random
 * binary bytes is written byte for byte under every shell of the matrix.
 * Before, its ~4500 printf calls in one function crashed bash (SIGSEGV) and
 * mksh and posh took minutes (an external printf per 4 KiB call).
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_CONTENT_BYTES } from "../../compiler/validate.js";
import { File, environment } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { availableShells, runScript } from "../support/shells.js";

const dir = mkdtempSync(join(tmpdir(), "depc-large-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const content = new Uint8Array(randomBytes(MAX_CONTENT_BYTES));
const digest = createHash("sha256").update(content).digest("hex");
const text = compileValue(environment({ hosts: { h: [File({ path: `${dir}/big.bin`, content })] } }), "prod").bundles!.get("h")!;
const bundle = join(dir, "h.sh");
writeFileSync(bundle, text);

describe("large binary content in a bundle", () => {
  it("goes in printf calls of up to 32 KiB, at most 256 to a function", () => {
    const content = text.slice(text.indexOf("depc_content_1_part1() {"), text.indexOf("\ndepc_content_1() {"));
    const calls = content.split("\n").filter((l) => l.startsWith("  printf '"));
    expect(calls.length).toBeGreaterThan(256);
    expect(Math.max(...calls.map((c) => c.length))).toBeLessThanOrEqual(32 * 1024 + 16);
    const parts = text.match(/^depc_content_1_part\d+\(\) \{$/gm) ?? [];
    expect(parts.length).toBe(Math.ceil(calls.length / 256));
  });
});

describe.each(availableShells())("content at the size limit under $name", (shell) => {
  it(`${MAX_CONTENT_BYTES} bytes of binary content are written byte for byte`, () => {
    rmSync(`${dir}/big.bin`, { force: true });
    const started = performance.now();
    const r = runScript(shell, bundle, ["--quiet", "--keep", "0"], {
      env: { DEPC_STATE_DIR: join(dir, `state-${shell.name.replace(/\W+/g, "-")}`) },
      timeoutMs: 300_000,
    });
    console.log(`${shell.name}: ${MAX_CONTENT_BYTES} bytes in ${Math.round(performance.now() - started)} ms`);
    expect(r.signal).toBe(null);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(createHash("sha256").update(readFileSync(`${dir}/big.bin`)).digest("hex")).toBe(digest);
  }, 320_000);
});
