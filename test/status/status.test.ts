// depc status: a directory store holding a hand-written manifest and reports
// (test/status/fixture.ts), read in-process with a fixed clock (exact text)
// and through the built CLI (exit codes, no raw host bytes on stdout). The
// same store over HTTP from a real nginx, and over s3:// from s3rver (which
// stands in for a real S3: see test/publish/s3-server.ts), are in
// status-remote.test.ts.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runStatus, type StatusArgs } from "../../tools/status/command.js";
import { escapeMessage, readReport, relativeTime } from "../../tools/status/status.js";
import { HOSTILE_MESSAGE, MANIFEST_7, NOW, expectedText, report, storeObjects, writeStore } from "./fixture.js";

const repo = join(import.meta.dirname, "..", "..");
const temp = () => mkdtempSync(join(tmpdir(), "depc-status-"));

async function status(args: Partial<StatusArgs> & { store: string }, now = NOW) {
  let stdout = "";
  let stderr = "";
  const code = await runStatus({ env: "prod", json: false, ...args }, { cwd: "/", stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), now });
  return { code, stdout, stderr };
}

describe("depc status on a directory store", () => {
  it("prints each host's applied serial, result, when and message (escaped), then who is behind; exit 1", async () => {
    const root = writeStore(temp());
    const r = await status({ store: root });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(expectedText(root));
    expect(r.stdout).not.toContain("\u001b");
    expect(r.stdout).not.toContain("\u0007");
    expect(r.code).toBe(1);
  });

  it("exit 0 when every host has applied the latest serial", async () => {
    const objects = storeObjects();
    objects["reports/web2"] = report("web2", 7, "ok", 7, NOW - 7200, "applied");
    objects["reports/cache"] = report("cache", 7, "ok", 7, NOW - 86400 * 2, "applied");
    objects["reports/lb1"] = report("lb1", 7, "waiting", 8, NOW + 120, "waiting for web2 (serial 8)");
    const root = writeStore(temp(), objects);
    const r = await status({ store: root });
    expect(r.stdout.split("\n").slice(2)).toEqual([
      "host   serial  result              when                                   message",
      "db1    7       ok                  5 minutes ago (2027-01-15T07:55:00Z)   applied",
      "web1   7       ok                  30 seconds ago (2027-01-15T07:59:30Z)",
      "web2   7       ok                  2 hours ago (2027-01-15T06:00:00Z)     applied",
      "cache  7       ok                  2 days ago (2027-01-13T08:00:00Z)      applied",
      // A host whose clock is ahead; its latest run waited for a serial the store no longer names.
      "lb1    7       waiting (serial 8)  in 2 minutes (2027-01-15T08:02:00Z)    waiting for web2 (serial 8)",
      "",
      "5 of 5 hosts at serial 7",
      "",
    ]);
    expect(r.code).toBe(0);
  });

  it("--json gives the same facts for tools, messages escaped as in the text", async () => {
    const root = writeStore(temp());
    const r = await status({ store: root, json: true });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain("\u001b");
    const json = JSON.parse(r.stdout);
    expect(json).toEqual({
      store: root,
      environment: "prod",
      serial: 7,
      published: NOW - 3600,
      expires: NOW + 7 * 86400,
      now: NOW,
      hosts: [
        { host: "db1", current: true, reported: true, serial: 7, digest: "1".repeat(64), result: "ok", attempted: 7, at: NOW - 300, atIso: "2027-01-15T07:55:00Z", message: "applied" },
        { host: "web1", current: true, reported: true, serial: 7, digest: "1".repeat(64), result: "ok", attempted: 7, at: NOW - 30, atIso: "2027-01-15T07:59:30Z", message: "" },
        {
          host: "web2",
          current: false,
          reported: true,
          serial: 6,
          digest: "1".repeat(64),
          result: "error",
          attempted: 7,
          at: NOW - 7200,
          atIso: "2027-01-15T06:00:00Z",
          message: "failed (exit 1): \\x1b[2J\\x1b]0;pwned\\x07 done",
        },
        { host: "cache", current: false, reported: false },
        { host: "lb1", current: false, reported: false, problem: 'report: line 1: expected "depc-report 1", found "garbage"' },
      ],
      atSerial: 2,
      behind: ["web2", "cache", "lb1"],
    });
  });

  it("a report that names another host, or holds a host that applied nothing yet", async () => {
    const objects = storeObjects();
    objects["reports/cache"] = report("db1", 7, "ok", 7, NOW, "I am db1");
    objects["reports/lb1"] = report("lb1", 0, "refused", 7, NOW - 60, "refused: manifest 7 is not signed by the publisher");
    const r = await status({ store: writeStore(temp(), objects) });
    expect(r.stdout).toContain("\ncache  -       unreadable report   -                                      report names host db1\n");
    expect(r.stdout).toContain("\nlb1    none    refused (serial 7)  1 minute ago (2027-01-15T07:59:00Z)    refused: manifest 7 is not signed by the publisher\n");
    expect(r.stdout).toContain("\n2 of 5 hosts at serial 7; behind: web2, cache, lb1\n");
  });

  it("one line on stderr and exit 1 when the store holds no published environment, another one, or a broken one", async () => {
    const empty = temp();
    expect(await status({ store: empty })).toEqual({ code: 1, stdout: "", stderr: `depc: status: the store ${empty} has no latest: nothing was published there\n` });
    const root = writeStore(temp());
    expect((await status({ store: root, env: "staging" })).stderr).toBe(`depc: status: the store ${root} holds environment prod, not staging\n`);
    // An environment module names its environment too.
    expect((await status({ store: root, env: "env/prod.ts" })).code).toBe(1);
    expect((await status({ store: root, env: "env/prod.ts" })).stderr).toBe("");
    expect((await status({ store: root, env: "env/prod/index.ts" })).stderr).toBe("");
    const noManifest = writeStore(temp(), { latest: "8\n" });
    expect((await status({ store: noManifest })).stderr).toBe(`depc: status: the store ${noManifest} has no manifests/8, which latest names\n`);
    const badLatest = writeStore(temp(), { latest: "seven\n" });
    expect((await status({ store: badLatest })).stderr).toBe(`depc: status: the store ${badLatest}: latest: not a serial and a newline: "seven\\n"\n`);
    const otherSerial = writeStore(temp(), { latest: "8\n", "manifests/8": MANIFEST_7 });
    expect((await status({ store: otherSerial })).stderr).toBe(`depc: status: manifests/8 in the store ${otherSerial} says serial 7\n`);
  });

  it("reads a message whatever bytes it holds: non-ASCII is spelled \\xNN, a long one is cut", () => {
    const long = "x".repeat(250);
    const read = readReport(report("db1", 7, "ok", 7, NOW, long));
    expect(read.report?.message).toBe(`${"x".repeat(200)}…`);
    expect(readReport(report("db1", 7, "ok", 7, NOW, "caf\u00e9 \u009b31m \u007f")).report?.message).toBe("caf\\xe9 \\x9b31m \\x7f");
    expect(escapeMessage(HOSTILE_MESSAGE)).toBe("failed (exit 1): \\x1b[2J\\x1b]0;pwned\\x07 done");
    // Any other field with such a byte makes the report unreadable.
    expect(readReport(report("db1", 7, "o\u001bk", 7, NOW, "")).problem).toBe("report: holds a byte that is not printable ASCII or LF");
  });

  it("says how long ago in words", () => {
    expect([0, 4, 5, 59, 60, 119, 3599, 3600, 86399, 86400, 172800].map((ago) => relativeTime(NOW - ago, NOW))).toEqual([
      "just now",
      "just now",
      "5 seconds ago",
      "59 seconds ago",
      "1 minute ago",
      "1 minute ago",
      "59 minutes ago",
      "1 hour ago",
      "23 hours ago",
      "1 day ago",
      "2 days ago",
    ]);
    expect(relativeTime(NOW + 3600, NOW)).toBe("in 1 hour");
  });
});

describe("depc status through the CLI", () => {
  const depc = (args: string[]) =>
    spawnSync(process.execPath, [join(repo, "bin", "depc.js"), ...args], { encoding: "latin1", timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } });

  it("prints the table with the host's bytes escaped and exits 1 while a host is behind", () => {
    const root = writeStore(temp());
    const r = depc(["status", "prod", "--store", root]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("\\x1b[2J\\x1b]0;pwned\\x07 done\n");
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\xff]/);
    expect(r.stdout.endsWith("\n2 of 5 hosts at serial 7; behind: web2, cache, lb1\n")).toBe(true);
  });

  it("exits 0 when all hosts are at the latest serial; --help says so", () => {
    const root = temp();
    mkdirSync(join(root, "reports"));
    writeStore(root, {
      latest: "1\n",
      "manifests/1": MANIFEST_7.replace("serial 7", "serial 1").split("\n").filter((l) => !l.startsWith("host ") || l.startsWith("host db1 ")).join("\n"),
      "reports/db1": report("db1", 1, "ok", 1, Math.floor(Date.now() / 1000), "applied"),
    });
    const r = depc(["status", "prod", "--store", root]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\ndb1   1       ok      just now \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)  applied\n\n1 of 1 host at serial 1\n$/);
    const help = depc(["status", "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout.replace(/\s+/g, " ")).toContain("Exit codes: 0 every host has applied the latest serial, 1 a host is behind or has not reported (or an error, printed).");
    expect(help.stdout).toContain("--s3-endpoint");
    expect(depc(["--help"]).stdout).toContain("depc status <env>");
  });

  it("--store is required: a usage error", () => {
    const r = depc(["status", "prod"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("depc: Missing required argument: store\nRun 'depc --help' for usage.\n");
  });

  it("does not load the AWS SDK for a directory store (it loads for s3:// only)", () => {
    const hooks = temp();
    writeFileSync(
      join(hooks, "hooks.mjs"),
      'export async function resolve(specifier, context, next) {\n  const r = await next(specifier, context);\n  if (r.url.includes("/@aws-sdk/")) throw new Error("the AWS SDK was loaded");\n  return r;\n}\n',
    );
    writeFileSync(join(hooks, "register.mjs"), 'import { register } from "node:module";\nregister("./hooks.mjs", import.meta.url);\n');
    const withHook = (args: string[]) =>
      spawnSync(process.execPath, ["--import", join(hooks, "register.mjs"), join(repo, "bin", "depc.js"), ...args], { encoding: "utf8", timeout: 60_000 });
    const root = writeStore(temp());
    const dir = withHook(["status", "prod", "--store", root]);
    expect(dir.stderr).toBe("");
    expect(dir.status).toBe(1);
    // The hook is live: an s3:// store trips it (and says so in one line).
    const s3 = withHook(["status", "prod", "--store", "s3://depc/prod", "--s3-endpoint", "http://127.0.0.1:9"]);
    expect(s3.stderr).toBe("depc: status: s3:// stores are not available in this depc (the AWS SDK was loaded)\n");
    rmSync(hooks, { recursive: true, force: true });
  });
});
