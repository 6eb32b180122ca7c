/**
 * The pull agent (stdlib/pull/pull-agent.sh) under every shell of the matrix,
 * as `SHELL pull-agent CONFIG`, against a real HTTP server on loopback (Node's
 * http in the test, standing in for nginx: the test bed's pull tests use
 * nginx) that serves a store written by the test in the contract's layout,
 * signed by the real `ssh-keygen -Y sign`. The bundles are real ones
 * (test/runtime/bundle.ts: the compiler's emitter) applied into a sandbox
 * state directory; their File resource writes a marker whose absence proves
 * that nothing was applied.
 *
 * Under busybox sh the PATH holds busybox applets (so the fetch tool is
 * busybox wget, which cannot PUT: the report stays on the host) plus
 * ssh-keygen and age, which busybox does not have.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { availableShells } from "../support/shells.js";
import { fixture, hostKey, intruder, tools } from "./fixture.js";
import { sha256 } from "./support.js";

/** The report's lines with the run's time replaced by `at T`. */
const reportLines = (text: string | undefined) => text?.split("\n").map((l) => l.replace(/^at \d+$/, "at T"));

describe.skipIf(!tools).each(availableShells())("pull agent under $name", (shell) => {
  it("applies a new serial once, records and reports it; a second run is a silent no-op; the next serial is applied", async () => {
    const f = await fixture(shell, "apply");
    try {
      f.publish({ serial: 1 });
      const first = await f.run();
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      expect(f.markerText()).toBe("serial 1\n");
      expect(f.events()).toEqual(["serial 1: applied"]);
      expect(first.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ serial 1: applied\n$/);
      expect(f.applied()).toBe("1\n");
      expect(readFileSync(join(f.state, "pull", "digest"), "utf8")).toBe(`${sha256(f.bundle(1))}\n`);
      expect(reportLines(f.report())).toEqual(["depc-report 1", "host web1", "serial 1", `digest ${sha256(f.bundle(1))}`, "result ok", "attempted 1", "at T", "message applied", ""]);
      // The bundle ran with the shared state directory: its own run log is there.
      expect(readFileSync(join(f.state, "runs.log"), "utf8")).toMatch(/ apply converged ok=0 changed=1 /);
      expect(f.leftovers()).toEqual([]);

      const requests = f.server.requests.length;
      const second = await f.run();
      expect(second).toMatchObject({ code: 0, stdout: "", stderr: "" });
      expect(f.events()).toEqual(["serial 1: applied"]);
      expect(f.server.requests.slice(requests)).toEqual(["GET /latest"]);

      f.publish({ serial: 2 });
      const third = await f.run();
      expect(third.code).toBe(0);
      expect(f.markerText()).toBe("serial 2\n");
      expect(f.events()).toEqual(["serial 1: applied", "serial 2: applied"]);
      expect(f.applied()).toBe("2\n");
      expect(f.report()).toMatch(/^serial 2$/m);
    } finally {
      await f.close();
    }
  });

  it("compares 15-digit serials exactly (no 32-bit shell arithmetic)", async () => {
    const f = await fixture(shell, "bigserial");
    try {
      f.publish({ serial: 999999999999998 });
      expect((await f.run()).code).toBe(0);
      f.publish({ serial: 999999999999999 });
      expect((await f.run()).code).toBe(0);
      expect(f.applied()).toBe("999999999999999\n");
      f.publish({ serial: 99999999999999 });
      expect((await f.run()).code).toBe(1);
      expect(f.events()).toEqual(["serial 999999999999998: applied", "serial 999999999999999: applied", "serial 99999999999999: refused: serial 99999999999999 is lower than the applied 999999999999999"]);
      expect(f.markerText()).toBe("serial 999999999999999\n");
    } finally {
      await f.close();
    }
  });

  /** A refusal: nothing applied (the marker keeps `before`), the bundle never ran, one exact log line, also after a second run. */
  const refuses = async (f: Awaited<ReturnType<typeof fixture>>, line: string, before?: string) => {
    const runsLog = existsSync(join(f.state, "runs.log")) ? readFileSync(join(f.state, "runs.log"), "utf8") : undefined;
    const events = f.events();
    const run = await f.run();
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
    expect(f.markerText()).toBe(before);
    expect(existsSync(join(f.state, "runs.log")) ? readFileSync(join(f.state, "runs.log"), "utf8") : undefined).toBe(runsLog);
    expect(f.events()).toEqual([...events, line]);
    expect((await f.run()).code).toBe(1);
    expect(f.events()).toEqual([...events, line]);
    expect(f.report()).toMatch(/^result refused$/m);
    expect(f.leftovers()).toEqual([]);
  };

  it("refuses a bundle whose bytes changed in the store", async () => {
    const f = await fixture(shell, "changed");
    try {
      f.publish({ serial: 1 });
      const digest = sha256(f.bundle(1));
      const object = join(f.store, "bundles", digest);
      const bytes = readFileSync(object);
      bytes[bytes.length - 2]! ^= 1;
      writeFileSync(object, bytes);
      await refuses(f, `serial 1: refused: bundle for web1 has sha256 ${sha256(bytes)}, manifest says ${digest}`);
    } finally {
      await f.close();
    }
  });

  it("refuses a manifest signed by another key", async () => {
    const f = await fixture(shell, "otherkey");
    try {
      f.publish({ serial: 1 }, intruder.path);
      await refuses(f, "serial 1: refused: manifest 1 is not signed by the publisher");
    } finally {
      await f.close();
    }
  });

  it("refuses a replayed older manifest and a latest lower than the applied serial", async () => {
    const f = await fixture(shell, "replay");
    try {
      f.publish({ serial: 2 });
      expect((await f.run()).code).toBe(0);
      // An older signed manifest served as serial 3.
      f.publish({ serial: 3, textSerial: 1 });
      await refuses(f, "serial 3: refused: manifest 3 says serial '1' (a replayed manifest)", "serial 2\n");
      // The old manifest itself, with latest rolled back.
      f.publish({ serial: 1 });
      await refuses(f, "serial 1: refused: serial 1 is lower than the applied 2", "serial 2\n");
      expect(f.applied()).toBe("2\n");
    } finally {
      await f.close();
    }
  });

  it("refuses an expired manifest, naming when it expired", async () => {
    const f = await fixture(shell, "expired");
    try {
      const expires = Math.floor(Date.now() / 1000) - 3600;
      f.publish({ serial: 1, expires });
      await refuses(f, `serial 1: refused: manifest 1 expired at ${new Date(expires * 1000).toISOString().replace(/\.\d+Z$/, "Z")}`);
    } finally {
      await f.close();
    }
  });

  it("refuses a manifest of another environment", async () => {
    const f = await fixture(shell, "env");
    try {
      f.publish({ serial: 1, env: "staging" });
      await refuses(f, "serial 1: refused: manifest 1 is for environment 'staging', this host is in 'prod'");
    } finally {
      await f.close();
    }
  });

  it("refuses a latest that is not digits, showing it as printable ASCII only", async () => {
    const f = await fixture(shell, "latest");
    try {
      f.publish({ serial: 1 });
      writeFileSync(join(f.store, "latest"), "1; rm -rf /\x1b[2J\n");
      await refuses(f, "refused: the store's latest is not a serial number ('1; rm -rf /[2J')");
      writeFileSync(join(f.store, "latest"), "1\n2\n");
      await refuses(f, "refused: the store's latest is not a serial number ('1 2')");
    } finally {
      await f.close();
    }
  });

  it("refuses a manifest larger than 1 MiB and one without this host", async () => {
    const f = await fixture(shell, "size");
    try {
      f.publish({ serial: 1, hosts: [{ name: "web2", bundle: f.bundle(1) }] });
      await refuses(f, "serial 1: refused: manifest 1 has no bundle for host web1");
      f.publish({ serial: 2 });
      writeFileSync(join(f.store, "manifests", "2"), `depc-manifest 1\n${"x".repeat(1024 * 1024)}\n`);
      await refuses(f, "serial 2: refused: manifest 2 is larger than 1 MiB");
    } finally {
      await f.close();
    }
  });

  it("fails with one line naming the object and the fetch tool's reason when the store lacks it", async () => {
    const f = await fixture(shell, "missing");
    try {
      f.publish({ serial: 1 });
      writeFileSync(join(f.store, "latest"), "2\n");
      const run = await f.run();
      expect(run.code).toBe(1);
      const why = f.canPut ? "curl: (22) The requested URL returned error: 404" : "wget: server returned error: HTTP/1.1 404 Not Found";
      expect(f.events()).toEqual([`serial 2: failed: cannot fetch manifests/2: ${why}`]);
      expect(f.report()).toMatch(/^result error\nattempted 2\n/m);
      expect(f.markerText()).toBeUndefined();
    } finally {
      await f.close();
    }
  });

  it("waits until its providers have reported the serial, then applies", async () => {
    const f = await fixture(shell, "waits");
    try {
      const bundle = f.bundle(3);
      f.publish({ serial: 3, hosts: [{ name: "db", bundle: "db\n" }, { name: "web1", bundle, after: ["db"] }] });
      const run = await f.run();
      expect(run.code).toBe(0);
      expect(f.markerText()).toBeUndefined();
      expect(f.events()).toEqual(["serial 3: waiting for db (serial 3)"]);
      expect(f.report()).toMatch(/^serial 0\ndigest -\nresult waiting\nattempted 3\n/m);
      expect((await f.run()).code).toBe(0);
      expect(f.events()).toEqual(["serial 3: waiting for db (serial 3)"]);
      // The provider reports an older serial: still waiting.
      writeFileSync(join(f.store, "reports", "db"), "depc-report 1\nhost db\nserial 2\ndigest -\nresult ok\nattempted 2\nat 1\nmessage applied\n");
      expect((await f.run()).code).toBe(0);
      expect(f.markerText()).toBeUndefined();
      writeFileSync(join(f.store, "reports", "db"), "depc-report 1\nhost db\nserial 3\ndigest -\nresult ok\nattempted 3\nat 1\nmessage applied\n");
      expect((await f.run()).code).toBe(0);
      expect(f.markerText()).toBe("serial 3\n");
      expect(f.events()).toEqual(["serial 3: waiting for db (serial 3)", "serial 3: applied"]);
    } finally {
      await f.close();
    }
  });

  it("retries at the next run when another run holds the bundle's lock (exit 3)", async () => {
    const f = await fixture(shell, "lock");
    try {
      f.publish({ serial: 1 });
      mkdirSync(f.state, { recursive: true, mode: 0o700 });
      // The bundle's lock held by a live process (this test's node: its pid and start time).
      const ticks = readFileSync(`/proc/${process.pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ")[19];
      symlinkSync(`pid=${process.pid} start=${ticks} user=root since=2026-12-01T00:00:00Z mode=apply tmp=/nonexistent`, join(f.state, "lock"));
      const held = await f.run();
      expect(held.code).toBe(0);
      expect(f.markerText()).toBeUndefined();
      expect(f.applied()).toBeUndefined();
      expect(f.events()).toEqual(["serial 1: waiting: another run holds the bundle's lock; retrying next run"]);
      rmSync(join(f.state, "lock"));
      expect((await f.run()).code).toBe(0);
      expect(f.markerText()).toBe("serial 1\n");
      expect(f.events()).toEqual(["serial 1: waiting: another run holds the bundle's lock; retrying next run", "serial 1: applied"]);
    } finally {
      await f.close();
    }
  });

  it("decrypts an .age object with the host's ssh ed25519 key and leaves no plain bundle behind", async () => {
    const f = await fixture(shell, "age");
    try {
      const bundle = f.bundle(1);
      f.publish({ serial: 1, hosts: [{ name: "web1", bundle, encryptTo: `${hostKey.path}.pub` }] });
      expect(readdirSync(join(f.store, "bundles")).every((n) => n.endsWith(".age"))).toBe(true);
      const run = await f.run();
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(f.markerText()).toBe("serial 1\n");
      expect(f.report()).toMatch(new RegExp(`^digest ${sha256(bundle)}$`, "m"));
      expect(f.leftovers()).toEqual([]);
      for (const name of readdirSync(join(f.state, "pull"))) expect(readFileSync(join(f.state, "pull", name), "utf8")).not.toContain("depc bundle for host");
    } finally {
      await f.close();
    }
  });

  it("fails, applying nothing, when the identity cannot decrypt the object", async () => {
    const f = await fixture(shell, "noident", { identity: intruder.path });
    try {
      f.publish({ serial: 1, hosts: [{ name: "web1", bundle: f.bundle(1), encryptTo: `${hostKey.path}.pub` }] });
      const object = readdirSync(join(f.store, "bundles"))[0]!;
      const run = await f.run();
      expect(run.code).toBe(1);
      expect(f.markerText()).toBeUndefined();
      expect(f.events()).toEqual([`serial 1: failed: cannot decrypt bundles/${object} with ${intruder.path}: age: error: no identity matched any of the recipients`]);
      expect(f.leftovers()).toEqual([]);
    } finally {
      await f.close();
    }
  });
});
