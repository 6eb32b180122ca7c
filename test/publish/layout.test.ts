// The store layout's texts (manifest, report, latest) and paths: exact
// formats and the exact one-line errors for each way a text can be wrong.
import { describe, expect, it } from "vitest";
import {
  LayoutError,
  bundlePath,
  formatLatest,
  formatManifest,
  formatReport,
  manifestPath,
  nextSerial,
  parseDuration,
  parseLatest,
  parseManifest,
  parseReport,
  reportPath,
  signaturePath,
  type PublishedManifest,
} from "../../tools/publish/layout.js";

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);

const MANIFEST: PublishedManifest = {
  environment: "prod",
  serial: 12,
  published: 1_700_000_000,
  expires: 1_700_604_800,
  hosts: [
    { name: "db1", digest: A, object: `bundles/${A}`, objectSha256: A, after: [] },
    { name: "web1", digest: B, object: `bundles/${C}.age`, objectSha256: C, after: ["db1"] },
  ],
};

const TEXT = `depc-manifest 1
environment prod
serial 12
published 1700000000
expires 1700604800
host db1 ${A} bundles/${A} ${A} -
host web1 ${B} bundles/${C}.age ${C} db1
`;

const error = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LayoutError);
    return (e as Error).message;
  }
  throw new Error("no error");
};

describe("paths", () => {
  it("names every object of the layout", () => {
    expect(bundlePath(A, false)).toBe(`bundles/${A}`);
    expect(bundlePath(A, true)).toBe(`bundles/${A}.age`);
    expect(manifestPath(7)).toBe("manifests/7");
    expect(signaturePath(7)).toBe("manifests/7.sig");
    expect(reportPath("web-1.a_b")).toBe("reports/web-1.a_b");
    expect(error(() => bundlePath("ABC", false))).toBe('not a sha256 in lowercase hex: "ABC"');
    expect(error(() => manifestPath(0))).toBe("not a serial (a whole number from 1 to 999999999999999): 0");
    expect(error(() => manifestPath(1.5))).toBe("not a serial (a whole number from 1 to 999999999999999): 1.5");
    expect(error(() => reportPath("../x"))).toBe('not a host name: "../x"');
  });

  it("latest is the serial and a newline; serials only grow, up to 15 digits", () => {
    expect(formatLatest(42)).toBe("42\n");
    expect(parseLatest("42\n")).toBe(42);
    expect(parseLatest("999999999999999\n")).toBe(999_999_999_999_999);
    for (const bad of ["042\n", "42", "0\n", "1000000000000000\n", "4 2\n", "-1\n", ""]) {
      expect(error(() => parseLatest(bad))).toBe(`latest: not a serial and a newline: ${JSON.stringify(bad)}`);
    }
    expect(nextSerial(0)).toBe(1);
    expect(nextSerial(41)).toBe(42);
    expect(error(() => nextSerial(999_999_999_999_999))).toBe("the serial 999999999999999 is the last one the layout allows");
  });

  it("durations", () => {
    expect(parseDuration("30m")).toBe(1800);
    expect(parseDuration("12h")).toBe(43200);
    expect(parseDuration("7d")).toBe(604800);
    expect(parseDuration("90s")).toBe(90);
    for (const bad of ["7", "0d", "1w", "-1d", "7 d", ""]) expect(error(() => parseDuration(bad))).toBe(`${JSON.stringify(bad)} is not a duration like 30m, 12h or 7d`);
  });
});

describe("the manifest", () => {
  it("formats exactly the contract's text and reads it back", () => {
    expect(formatManifest(MANIFEST)).toBe(TEXT);
    expect(parseManifest(TEXT)).toEqual(MANIFEST);
  });

  it("skips lines whose first word it does not know (a later version's)", () => {
    const later = TEXT.replace("serial 12\n", "serial 12\nsigned-by someone else\n") + "mirror https://example.invalid/\n";
    expect(parseManifest(later)).toEqual(MANIFEST);
  });

  it("refuses each malformed text with one exact line", () => {
    const cases: [string, string][] = [
      [TEXT.replace("depc-manifest 1", "depc-manifest 2"), 'manifest: line 1: expected "depc-manifest 1", found "depc-manifest 2"'],
      [TEXT.slice(0, -1), "manifest: does not end with a newline"],
      ["", "manifest: does not end with a newline"],
      [TEXT.replace("\n", "\r\n"), "manifest: holds a byte that is not printable ASCII or LF"],
      [TEXT.replace("environment prod", "environment  prod"), "manifest: line 2: fields must be separated by exactly one space"],
      [TEXT.replace("environment prod", "environment prod staging"), "manifest: line 2: environment takes one value"],
      [TEXT.replace("environment prod", "environment -prod"), 'manifest: line 2: "-prod" is not an environment name'],
      [TEXT.replace("serial 12", "serial 012"), 'manifest: line 3: "012" is not a serial (1 to 15 digits, no leading zero)'],
      [TEXT.replace("serial 12", "serial 0"), 'manifest: line 3: "0" is not a serial (1 to 15 digits, no leading zero)'],
      [TEXT.replace("serial 12\n", "serial 12\nserial 13\n"), "manifest: line 4: a second serial line"],
      [TEXT.replace("published 1700000000", "published soon"), 'manifest: line 4: "soon" is not epoch seconds'],
      [TEXT.replace("expires 1700604800\n", ""), "manifest: no expires line"],
      [TEXT.replace("expires 1700604800", "expires 1700000000"), "manifest: expires (1700000000) is not after published (1700000000)"],
      [TEXT.replace(/host .*\n/g, ""), "manifest: no host lines"],
      [TEXT.replace(` db1\n`, ` db1 extra\n`), "manifest: line 7: a host line is: host <name> <digest> <object> <object-sha256> <after>"],
      [TEXT.replace(` db1\n`, ` db1,\n`), 'manifest: line 7: after "db1," is not - or host names separated by commas'],
      [TEXT.replace(` db1\n`, ` cache1\n`), "manifest: host web1: after names cache1, which has no host line"],
      [TEXT.replace(` db1\n`, ` web1\n`), "manifest: host web1: waits for itself"],
      [TEXT.replace(` db1\n`, ` db1,db1\n`), "manifest: host web1: after names a host twice"],
      [TEXT.replace("host web1", "host db1"), "manifest: host db1 has two host lines"],
      [TEXT.replace("host web1", "host -web1"), 'manifest: host name "-web1" is not a host name'],
      [TEXT.replace(`host db1 ${A}`, `host db1 ${A.toUpperCase()}`), "manifest: host db1: digest is not a sha256 in lowercase hex"],
      [TEXT.replace(`bundles/${A} ${A}`, `bundles/../${A} ${A}`), `manifest: host db1: object "bundles/../${A}" is not bundles/<sha256> or bundles/<sha256>.age`],
      [TEXT.replace(`bundles/${C}.age ${C}`, `bundles/${C}.age ${A}`), `manifest: host web1: object bundles/${C}.age is not named by its sha256 ${A}`],
      [TEXT.replace(`host db1 ${A} bundles/${A} ${A}`, `host db1 ${B} bundles/${A} ${A}`), "manifest: host db1: a plain object's sha256 must be its digest"],
    ];
    for (const [text, message] of cases) expect(error(() => parseManifest(text)), text).toBe(message);
  });

  it("formatManifest refuses what parseManifest would", () => {
    expect(error(() => formatManifest({ ...MANIFEST, serial: 0 }))).toBe("manifest: serial 0 is not a whole number from 1 to 999999999999999");
    expect(error(() => formatManifest({ ...MANIFEST, published: -1 }))).toBe("manifest: published is not epoch seconds: -1");
    expect(error(() => formatManifest({ ...MANIFEST, environment: "a b" }))).toBe('manifest: environment "a b" is not an environment name');
    expect(error(() => formatManifest({ ...MANIFEST, hosts: [{ ...MANIFEST.hosts[0]!, name: "a b" }] }))).toBe('manifest: host name "a b" is not a host name');
  });
});

describe("the report", () => {
  const REPORT = { host: "web1", serial: 12, digest: B, result: "ok" as const, attempted: 12, at: 1_700_000_100, message: "applied in 3s" };
  const RTEXT = `depc-report 1\nhost web1\nserial 12\ndigest ${B}\nresult ok\nattempted 12\nat 1700000100\nmessage applied in 3s\n`;

  it("formats exactly the contract's text and reads it back", () => {
    expect(formatReport(REPORT)).toBe(RTEXT);
    expect(parseReport(RTEXT)).toEqual(REPORT);
    const none = { host: "web1", serial: 0, digest: undefined, result: "waiting" as const, attempted: 3, at: 5, message: "" };
    expect(formatReport(none)).toBe("depc-report 1\nhost web1\nserial 0\ndigest -\nresult waiting\nattempted 3\nat 5\nmessage \n");
    expect(parseReport(formatReport(none))).toEqual(none);
    // An empty message without its space (a shell's printf may trim it) reads the same.
    expect(parseReport(formatReport(none).replace("message \n", "message\n"))).toEqual(none);
  });

  it("takes fields in any order and skips unknown ones", () => {
    const shuffled = `depc-report 1\nmessage applied in 3s\nat 1700000100\nuptime 99\nattempted 12\nresult ok\ndigest ${B}\nserial 12\nhost web1\n`;
    expect(parseReport(shuffled)).toEqual(REPORT);
  });

  it("refuses each malformed report with one exact line, echoing at most 40 characters", () => {
    const cases: [string, string][] = [
      [RTEXT.replace("depc-report 1", "depc-report 9"), 'report: line 1: expected "depc-report 1", found "depc-report 9"'],
      [RTEXT.replace("result ok", "result \x1b[31mok"), "report: holds a byte that is not printable ASCII or LF"],
      [RTEXT.replace("result ok", "result great"), 'report: line 5: result "great" is not ok, error, refused, waiting'],
      [RTEXT.replace("serial 12", "serial 012"), 'report: line 3: serial "012" is not 0 or a serial'],
      [RTEXT.replace("host web1", `host ${"x/".repeat(30)}`), `report: line 2: host "${"x/".repeat(20)}" is not a host name`],
      [RTEXT.replace("host web1", "host web 1"), "report: line 2: host takes one value"],
      [RTEXT.replace(`digest ${B}`, "digest sha256:x"), 'report: line 4: digest "sha256:x" is not a sha256 in lowercase hex or -'],
      [RTEXT.replace("at 1700000100", "at yesterday"), 'report: line 7: at "yesterday" is not epoch seconds'],
      [RTEXT.replace("applied in 3s", "x".repeat(201)), "report: line 8: message is longer than 200 characters"],
      [RTEXT.replace("attempted 12\n", ""), "report: no attempted line"],
      [RTEXT + "result ok\n", "report: line 9: a second result line"],
      [RTEXT.replace("serial 12", "serial 0"), "report: serial 0 (nothing applied) has a digest"],
      [RTEXT + "x".repeat(4096), "report: longer than 4096 bytes"],
      [RTEXT.slice(0, -1), "report: does not end with a newline"],
    ];
    for (const [text, message] of cases) expect(error(() => parseReport(text)), text).toBe(message);
    expect(error(() => formatReport({ ...REPORT, message: "two\nlines" }))).toBe("report: message is not one line of at most 200 printable ASCII characters");
  });
});
