/**
 * Download and Extract, compiler side: one test per diagnostic with the
 * exact text a user sees (DEPC2344-2347) and the lowering. Their behaviour
 * on a host: test/runtime/download.test.ts and test/runtime/extract.test.ts.
 */
import { describe, expect, it } from "vitest";
import { Download, Extract, environment, type Resource } from "../../model/index.js";
import { compileValue } from "../../test/support/inmemory.js";
import { compileFiles } from "../../test/support/project.js";

const header = `import { environment, Download, Extract } from "depc";\n`;
const SHA = "0123456789abcdef".repeat(4);

const cases: [code: string, call: string, message: string][] = [
  ["DEPC2344", `Download({ path: "/srv/a", url: "", sha256: "${SHA}" })`, `Download "/srv/a": url "" is missing: give the http://, https:// or ftp:// address to fetch the file from.`],
  ["DEPC2344", `Download({ path: "/srv/a", url: "file:///etc/passwd", sha256: "${SHA}" })`, `Download "/srv/a": url "file:///etc/passwd" must start with http://, https:// or ftp:// and hold no spaces or control characters.`],
  ["DEPC2344", `Download({ path: "/srv/a", url: "http://h/a b", sha256: "${SHA}" })`, `Download "/srv/a": url "http://h/a b" must start with http://, https:// or ftp:// and hold no spaces or control characters.`],
  ["DEPC2345", `Download({ path: "/srv/a", url: "http://h/a" } as any)`, `Download "/srv/a": sha256 undefined is missing: a Download needs the file's sha256 (run sha256sum on a copy you trust).`],
  ["DEPC2345", `Download({ path: "/srv/a", url: "http://h/a", sha256: "abc" })`, `Download "/srv/a": sha256 "abc" is not a sha256: it must be 64 hexadecimal digits (it has 3 characters).`],
  ["DEPC2346", `Extract({ archive: "/srv/x/a.tgz", to: "/srv/x" })`, `Extract "/srv/x": archive "/srv/x/a.tgz" lies inside the directory it is extracted to, which is replaced whole.`],
  ["DEPC2346", `Extract({ archive: "/srv/a.tgz", to: "/srv/x", strip: -1 })`, `Extract "/srv/x": strip -1 is not a whole number from 0 to 32.`],
  ["DEPC2346", `Extract({ archive: "/srv/a.tgz", to: "/srv/x", format: "rar" as any })`, `Extract "/srv/x": format "rar" is not one of "tar", "tar.gz", "tar.xz", "tar.bz2", "zip".`],
  ["DEPC2346", `Extract({ to: "/srv/x" } as any)`, `Extract "/srv/x": archive is missing: give the archive's path on the host.`],
  ["DEPC2347", `Extract({ archive: "/srv/a.rar", to: "/srv/x" })`, `Extract "/srv/x": cannot tell the format of archive "/srv/a.rar" from its name; give format: "tar", "tar.gz", "tar.xz", "tar.bz2" or "zip".`],
];

describe("Download and Extract diagnostics", () => {
  for (const [code, call, message] of cases) {
    it(`${code}: ${message}`, async () => {
      const result = await compileFiles({ "env/prod.ts": `${header}export default environment({ hosts: { web1: [\n  ${call},\n] } });\n` });
      expect(result.ok).toBe(false);
      expect(result.printed).toBe(`env/prod.ts:3:3 - error ${code}: ${message}\n\n3   ${call},\n    ${"~".repeat(call.indexOf("("))}\n\n`);
    });
  }
});

const steps = (resources: Resource[]) =>
  compileValue(environment({ hosts: { h: resources } }))
    .bundles!.get("h")!
    .split("\n")
    .filter((l) => l.startsWith("  depc_step "));

describe("Download and Extract lowering", () => {
  it("a Download is a file fact with its digest (lower case); an Extract takes its format from the name", () => {
    const bundle = compileValue(environment({ hosts: { h: [Download({ path: "/srv/a.tgz", url: "https://h/a.tgz?x=1&y='2'", sha256: SHA.toUpperCase(), owner: "app" })] } })).bundles!.get("h")!;
    expect(bundle).toContain(`  depc_step 1 download '/srv/a.tgz' depc_download '/srv/a.tgz' 'https://h/a.tgz?x=1&y='\\''2'\\''' '${SHA}' '0644' 'app' ''\n`);
    expect(bundle).toContain(`1\tf\t/srv/a.tgz\t644\tapp\t-\t${SHA}\n`);
    expect(
      steps([
        Extract({ archive: "/srv/a.TGZ", to: "/srv/x/", strip: 1, owner: "app", group: 0 }),
        Extract({ archive: "/srv/b.tar.xz", to: "/srv/y" }),
        Extract({ archive: "/srv/c.tbz2", to: "/srv/z" }),
        Extract({ archive: "/srv/d", to: "/srv/w", format: "zip" }),
      ]),
    ).toEqual([
      "  depc_step 1 extract '/srv/x' depc_extract '/srv/a.TGZ' '/srv/x' 'tar.gz' '1' 'app' '0'",
      "  depc_step 2 extract '/srv/y' depc_extract '/srv/b.tar.xz' '/srv/y' 'tar.xz' '0' '' ''",
      "  depc_step 3 extract '/srv/z' depc_extract '/srv/c.tbz2' '/srv/z' 'tar.bz2' '0' '' ''",
      "  depc_step 4 extract '/srv/w' depc_extract '/srv/d' '/srv/w' 'zip' '0' '' ''",
    ]);
  });
});
