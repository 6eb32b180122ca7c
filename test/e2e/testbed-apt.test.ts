// The test bed's local apt repository (test/testbed/apt.ts): a Debian host and a
// systemd host, which have no route to the machine's apt mirror, install packages from
// it with apt-get. Needs root and the network to the machine's apt mirror on the first
// run (see test/testbed/README.md): skipped with a message elsewhere, a failure in CI.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Testbed, testbedPrerequisites, type AptRepository } from "../testbed/index.js";
import { debFileName } from "../testbed/apt.js";

const pre = testbedPrerequisites({ systemd: true });
if (!pre.ok) {
  if (process.env.CI === "true") throw new Error(`test bed prerequisites missing in CI:\n  ${pre.missing.join("\n  ")}\n${pre.howTo}`);
  console.warn(`[testbed apt e2e] skipping: ${pre.missing.join("; ")}.\n${pre.howTo}`);
}

let bed: Testbed;
let repo: AptRepository;
const timings: Record<string, number> = {};

beforeAll(async () => {
  if (!pre.ok) return;
  bed = await Testbed.start({ hosts: [{ name: "deb" }, { name: "sd", systemd: true }] });
  let t0 = Date.now();
  repo = await bed.aptRepository();
  timings[repo.built ? "first aptRepository (download, index, serve)" : "aptRepository from the cache"] = Date.now() - t0;
  t0 = Date.now();
  const again = await bed.aptRepository();
  timings["aptRepository, cached"] = Date.now() - t0;
  expect(again.built).toBe(false);
}, 1_800_000);

afterAll(async () => {
  await bed?.stop();
  if (Object.keys(timings).length > 0) console.log("[testbed apt e2e] timings (ms)", timings);
}, 120_000);

describe.skipIf(!pre.ok)("the test bed's apt repository", () => {
  it("serves a flat repository from the bridge address, with every requested package", () => {
    expect(repo.sourcesListLine).toMatch(/^deb \[trusted=yes\] http:\/\/10\.213\.77\.1:\d+\/ \.\/$/);
    for (const name of ["nginx", "postgresql", "python3-django", "gunicorn", "python3-psycopg2", "haproxy", "cron", "logrotate"]) {
      expect(repo.versions.has(name), name).toBe(true);
    }
  });

  it.each(["deb", "sd"])("host %s installs from it with apt-get (it has no other package source)", async (host) => {
    const r = await bed.exec(
      host,
      `set -e
printf '%s\\n' '${repo.sourcesListLine}' >/etc/apt/sources.list.d/depc-test.list
: >/etc/apt/sources.list
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx python3-django gunicorn >/dev/null
dpkg-query -W -f '\${Package} \${Version}\\n' nginx python3-django gunicorn`,
      { timeoutMs: 600_000 },
    );
    expect(r.stderr).not.toMatch(/^E:/m);
    expect(r.code).toBe(0);
    // dpkg-query lists them by name.
    expect(r.stdout).toBe(["gunicorn", "nginx", "python3-django"].map((n) => `${n} ${repo.versions.get(n)}\n`).join(""));
  }, 600_000);
});

describe("debFileName", () => {
  it("names the .deb as apt's archive directory does (an epoch's ':' as %3a)", () => {
    expect(debFileName("Inst nginx (1.22.1-9 Debian:12.9/stable [amd64])")).toBe("nginx_1.22.1-9_amd64.deb");
    expect(debFileName("Inst libfoo [1.0-1] (2:1.1-1 Debian:12.9/stable, Debian-Security:12/stable-security [all])")).toBe("libfoo_2%3a1.1-1_all.deb");
  });
});
