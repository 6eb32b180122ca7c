// End-to-end: issue 15's pull mode on 20 real systemd hosts of the test bed.
//
// The store is Debian's real nginx on this machine (test/testbed/http-store.ts: read-only,
// WebDAV PUT for reports/ only), `depc publish` writes into the directory it serves, every
// host runs the standard library's PullAgent from a systemd timer every 5 s, and the
// environment has a provider chain: db1 → app1..app3 → web1..web16 (provide/require, so
// the build manifest's `after`). What a user cares about is read from where it lands: the
// app file on each host, each host's report in the store, each agent's log, nginx's access
// log (the order of requests), and `depc status`.
//
// One bed for every case (20 systemd hosts start in about 30 s here; see the report of the
// pull-e2e work in docs/pull.md). Needs root and nginx (test/testbed/README.md): skipped
// with a message elsewhere, a failure in CI.
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, repoRoot } from "../support/project.js";
import { startHttpStore, type HttpStore } from "../testbed/http-store.js";
import { Testbed, testbedPrerequisites } from "../testbed/index.js";

const pre = testbedPrerequisites({ systemd: true });
const missing = [...pre.missing, ...(existsSync("/usr/sbin/nginx") ? [] : ["nginx (apt-get install -y nginx)"])];
if (missing.length > 0) {
  if (process.env.CI === "true") throw new Error(`pull e2e prerequisites missing in CI:\n  ${missing.join("\n  ")}\n${pre.howTo}`);
  console.warn(`[pull e2e] skipping: ${missing.join("; ")}.\n${pre.howTo}`);
}

export const DB = ["db1"];
export const APPS = ["app1", "app2", "app3"];
export const WEBS = Array.from({ length: 16 }, (_, i) => `web${i + 1}`);
export const HOSTS = [...DB, ...APPS, ...WEBS];
const ENV = "fleet";
/** The agents' timer period, seconds. */
const TICK = 5;
