// A published environment as a store holds it, written by hand from the
// contract (docs/pull.md): latest, one manifest, and the reports hosts wrote.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The clock of the tests: 2027-01-15T08:00:00Z. */
export const NOW = 1_800_000_000;

const hex = (c: string) => c.repeat(64);

export const MANIFEST_7 = [
  "depc-manifest 1",
  "environment prod",
  "serial 7",
  `published ${NOW - 3600}`,
  `expires ${NOW + 7 * 86400}`,
  `host db1 ${hex("1")} bundles/${hex("1")} ${hex("1")} -`,
  `host web1 ${hex("2")} bundles/${hex("2")} ${hex("2")} db1`,
  `host web2 ${hex("3")} bundles/${hex("a")}.age ${hex("a")} db1`,
  `host cache ${hex("4")} bundles/${hex("4")} ${hex("4")} -`,
  `host lb1 ${hex("5")} bundles/${hex("5")} ${hex("5")} web1,web2`,
  "",
].join("\n");

export function report(host: string, serial: number, result: string, attempted: number, at: number, message: string, digest = serial === 0 ? "-" : hex("1")): string {
  return ["depc-report 1", `host ${host}`, `serial ${serial}`, `digest ${digest}`, `result ${result}`, `attempted ${attempted}`, `at ${at}`, `message ${message}`, ""].join("\n");
}

/** ESC sequences a hostile or broken host could put in its message: clear the screen, retitle the terminal, ring the bell. */
export const HOSTILE_MESSAGE = "failed (exit 1): \u001b[2J\u001b]0;pwned\u0007 done";

/** The store's objects, path → text (latin1: one char per byte). */
export function storeObjects(): Record<string, string> {
  return {
    latest: "7\n",
    "manifests/7": MANIFEST_7,
    "manifests/7.sig": "-----BEGIN SSH SIGNATURE-----\n(not read by status)\n-----END SSH SIGNATURE-----\n",
    "reports/db1": report("db1", 7, "ok", 7, NOW - 300, "applied"),
    "reports/web1": report("web1", 7, "ok", 7, NOW - 30, ""),
    "reports/web2": report("web2", 6, "error", 7, NOW - 7200, HOSTILE_MESSAGE),
    // cache never reported; lb1's report is not one.
    "reports/lb1": "garbage\n",
  };
}

export function writeStore(root: string, objects: Record<string, string> = storeObjects()): string {
  for (const [path, text] of Object.entries(objects)) {
    mkdirSync(join(root, ...path.split("/").slice(0, -1)), { recursive: true });
    writeFileSync(join(root, ...path.split("/")), Buffer.from(text, "latin1"));
  }
  return root;
}

/** The table of the fixture's store, as depc status prints it for `store`. */
export function expectedText(store: string): string {
  return [
    `prod in ${store}: serial 7, published 1 hour ago (2027-01-15T07:00:00Z), expires in 7 days (2027-01-22T08:00:00Z)`,
    "",
    "host   serial  result             when                                   message",
    "db1    7       ok                 5 minutes ago (2027-01-15T07:55:00Z)   applied",
    "web1   7       ok                 30 seconds ago (2027-01-15T07:59:30Z)",
    "web2   6       error (serial 7)   2 hours ago (2027-01-15T06:00:00Z)     failed (exit 1): \\x1b[2J\\x1b]0;pwned\\x07 done",
    "cache  -       never reported     -",
    'lb1    -       unreadable report  -                                      report: line 1: expected "depc-report 1", found "garbage"',
    "",
    "2 of 5 hosts at serial 7; behind: web2, cache, lb1",
    "",
  ].join("\n");
}
