// End-to-end: Package with real dpkg and apt on a test host, which has no route to the
// machine's apt mirror: its package source is the test bed's local apt repository
// (test/testbed/apt.ts), given to it as a File of the model, as a real site would.
// Bundles run with the host's /bin/sh (dash). Needs root (see test/testbed/README.md):
// skipped with a message elsewhere, a failure in CI.
//
// Proves: the missing packages of a host are installed by ONE apt-get run (apt's own
// /var/log/apt/history.log counts them), the index is fetched only then; a second run
// changes nothing and runs no apt-get; a version pin; --check says what it would
// install; a Package that left the model is removed when depc installed it and left
// when it was on the host before.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environment, File, Package, type Resource } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { Testbed, testbedPrerequisites, type AptRepository, type ExecResult } from "../testbed/index.js";

const pre = testbedPrerequisites();
if (!pre.ok) {
  if (process.env.CI === "true") throw new Error(`test bed prerequisites missing in CI:\n  ${pre.missing.join("\n  ")}\n${pre.howTo}`);
  console.warn(`[package e2e] skipping: ${pre.missing.join("; ")}.\n${pre.howTo}`);
}

let bed: Testbed;
let repo: AptRepository;
const timings: Record<string, number> = {};

beforeAll(async () => {
  if (!pre.ok) return;
  bed = await Testbed.start({ hosts: [{ name: "web" }, { name: "bb", userland: "busybox" }] });
  repo = await bed.aptRepository();
}, 1_800_000);

afterAll(async () => {
  await bed?.stop();
  if (Object.keys(timings).length > 0) console.log("[package e2e] timings (ms)", timings);
}, 120_000);

/** The model's package source: the bed's repository, and no other (the mirror is unreachable). */
function sources(): Resource[] {
  return [
    File({ path: "/etc/apt/sources.list", content: "# This host's packages come from sources.list.d (managed by depc).\n" }),
    File({ path: "/etc/apt/sources.list.d/depc-test.list", content: `${repo.sourcesListLine}\n` }),
  ];
}

async function deploy(resources: Resource[], args = "", label?: string, host = "web"): Promise<ExecResult> {
  const bundle = compileValue(environment({ hosts: { [host]: resources } }), "pkg").bundles!.get(host)!;
  const put = await bed.exec(host, "cat > /root/pkg.sh", { input: bundle });
  expect(put.code).toBe(0);
  const t0 = Date.now();
  const r = await bed.exec(host, `sh /root/pkg.sh ${args}`, { timeoutMs: 600_000 });
  if (label) timings[label] = Date.now() - t0;
  return r;
}

const lines = (r: ExecResult) => r.stdout.split("\n").filter((l) => / package /.test(l));
/** apt-get runs that installed or removed something (apt's own log on the host). */
async function aptRuns(): Promise<string[]> {
  const r = await bed.exec("web", "cat /var/log/apt/history.log 2>/dev/null || :");
  return r.stdout.split("\n").filter((l) => l.startsWith("Commandline: "));
}
async function installed(name: string): Promise<string> {
  const r = await bed.exec("web", `dpkg-query -W -f '\${db:Status-Abbrev}\${Version}' ${name} 2>/dev/null || :`);
  return r.stdout.startsWith("ii ") ? r.stdout.slice(3) : "";
}

describe.skipIf(!pre.ok)("Package on a real Debian host with real apt", () => {
  it("installs the missing packages in ONE apt-get run (after one index fetch), pins a version, leaves installed ones alone; a second run runs no apt-get", async () => {
    const cowsay = repo.versions.get("cowsay")!;
    const before = await aptRuns();
    expect(await installed("hello")).toBe("");
    expect(await installed("procps")).not.toBe(""); // in the rootfs: on the host before depc

    const model = () => [...sources(), Package({ name: "procps" }), Package({ name: "hello" }), Package({ name: "sl" }), Package({ name: "cowsay", version: cowsay })];
    const check = await deploy(model(), "--check");
    expect(check.code).toBe(2);
    // No index yet on a fresh host: the candidate is not known (and --check fetches nothing).
    expect(lines(check)).toEqual([
      "ok            package procps",
      "would change  package hello (install (not in the package index yet))",
      "would change  package sl (install (not in the package index yet))",
      `would change  package cowsay (install ${cowsay})`,
    ]);

    const apply = await deploy(model(), "", "first apply (index fetch + one install of 3 packages)");
    expect(apply.stderr).toBe("");
    expect(apply.code).toBe(0);
    expect(lines(apply)).toEqual([
      "ok            package procps",
      `changed       package hello (installed ${repo.versions.get("hello")})`,
      `changed       package sl (installed ${repo.versions.get("sl")})`,
      `changed       package cowsay (installed ${cowsay})`,
    ]);
    const runs = (await aptRuns()).slice(before.length);
    expect(runs).toEqual([expect.stringMatching(/^Commandline: apt-get install -y -q --no-install-recommends --allow-downgrades -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold hello sl cowsay=\S+$/)]);
    expect(await installed("hello")).toBe(repo.versions.get("hello"));
    const hello = await bed.exec("web", "hello");
    expect(hello.stdout).toBe("Hello, world!\n");

    const again = await deploy(model(), "", "second apply (converged: one dpkg-query)");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("depc: pkg/web: 6 resources: 0 changed, 6 ok, 0 failed\n");
    expect((await aptRuns()).length).toBe(before.length + 1);
    const recheck = await deploy(model(), "--check");
    expect(recheck.code).toBe(0);
  }, 1_200_000);

  it("removes a Package that left the model when depc installed it (apt-get remove), never one that was on the host before", async () => {
    const before = (await aptRuns()).length;
    const r = await deploy([...sources(), Package({ name: "hello" }), Package({ name: "cowsay" })]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("removed       package sl (apt-get remove)\n");
    expect(r.stdout).toContain("left          package procps (it was on the host before depc installed it: depc removes only the packages it installed)\n");
    expect(await installed("sl")).toBe("");
    expect(await installed("procps")).not.toBe("");
    expect(await installed("hello")).not.toBe("");
    const runs = (await aptRuns()).slice(before);
    expect(runs).toEqual(["Commandline: apt-get remove -y -q sl"]);
    // Back in the model: --check knows the index's candidate now.
    const check = await deploy([...sources(), Package({ name: "hello" }), Package({ name: "cowsay" }), Package({ name: "sl" })], "--check");
    expect(lines(check)).toContain(`would change  package sl (install ${repo.versions.get("sl")})`);
  }, 1_200_000);

  it("kill -9 of the whole run while dpkg installs: the next run finishes dpkg's work and converges", async () => {
    const model = [...sources(), Package({ name: "hello" }), Package({ name: "postgresql" })];
    const bundle = compileValue(environment({ hosts: { web: model } }), "pkg").bundles!.get("web")!;
    expect((await bed.exec("web", "cat > /root/pkg.sh", { input: bundle })).code).toBe(0);
    // The run in its own session; killed (the bundle, apt-get, dpkg and the maintainer
    // scripts: the whole process group) as soon as dpkg is configuring postgresql.
    // (A file, not sh -c: the watcher's own command line must not hold the pattern.)
    const watcher = `setsid sh /root/pkg.sh >/root/killed.out 2>&1 </dev/null &
pid=$!
i=0
while [ $i -lt 3000 ]; do
  if pgrep -af 'postinst|dpkg .*--configure|pg_createcluster|initdb' >/root/matched; then
    # The run's whole session (apt-get, dpkg, maintainer scripts), not just its process group.
    pkill -9 -s $pid
    echo killed
    break
  fi
  i=$((i + 1))
  sleep 0.05
done
wait $pid 2>/dev/null
dpkg --audit | head -3
`;
    expect((await bed.exec("web", "cat > /root/watch.sh", { input: watcher })).code).toBe(0);
    const killed = await bed.exec("web", "sh /root/watch.sh", { timeoutMs: 600_000 });
    expect(killed.stdout.startsWith("killed\n"), killed.stdout + killed.stderr).toBe(true);
    // dpkg --audit names what the killed dpkg left half-done (else the kill came too late).
    const matched = (await bed.exec("web", "cat /root/matched /root/killed.out")).stdout;
    expect(killed.stdout.slice("killed\n".length), `dpkg --audit after the kill (killed at: ${matched})`).not.toBe("");
    expect(await installed("postgresql")).toBe("");
    const r = await deploy(model, "", "apply after kill -9 during the install");
    expect(r.stderr).toMatch(/^depc: pkg\/web: warning: took over a stale lock: the run that held it \(pid \d+, started \S+, user root \(apply\)\) is gone\n$/);
    expect(r.code).toBe(0);
    expect(lines(r)).toContain(`changed       package postgresql (installed ${repo.versions.get("postgresql")})`);
    expect((await bed.exec("web", "dpkg --audit")).stdout).toBe("");
    const again = await deploy(model);
    expect(again.stdout).toContain("0 changed, 4 ok, 0 failed");
  }, 1_200_000);

  it("a package the repository does not have: apt's output as lines under one failed line, after one index refresh", async () => {
    const r = await deploy([...sources(), Package({ name: "hello" }), Package({ name: "depc-no-such-package" })]);
    expect(r.code).toBe(1);
    const out = r.stdout.split("\n");
    const at = out.indexOf("failed        package depc-no-such-package: apt-get install depc-no-such-package failed (exit status 100):");
    expect(at, r.stdout).toBeGreaterThan(-1);
    expect(out.slice(at + 1).filter((l) => l.startsWith("    "))).toContain("    E: Unable to locate package depc-no-such-package");
    expect(r.stderr).toBe("depc: pkg/web: package depc-no-such-package: apt-get install depc-no-such-package failed (exit status 100): E: Unable to locate package depc-no-such-package\n");
  }, 600_000);
});

/**
 * A STAND-IN for Alpine's apk (no apk can run on this machine: Debian 12 has no
 * apk-tools), on the bed's busybox-only host: it records its calls and keeps a fake
 * package database, so the test proves depc's side of the protocol under busybox sh.
 */
const APK_STANDIN = `#!/bin/sh
F=/var/lib/fake-apk
printf '%s\\n' "apk $*" >>$F/calls
case $1 in
  info) awk '{ print $1 "-" $2 }' $F/db ;;
  version) awk -v a="$3" -v b="$4" 'BEGIN { print (a > b) ? ">" : (a < b) ? "<" : "=" }' ;;
  update) : ;;
  del) awk -v n="$2" '$1 != n' $F/db >$F/db.new && mv $F/db.new $F/db ;;
  add)
    shift
    for w in "$@"; do
      n=\${w%%=*}
      v=$(awk -v n="$n" '$1 == n { print $2 }' $F/repo)
      case $w in *=*) v=\${w#*=} ;; esac
      [ -n "$v" ] || { echo "ERROR: unable to select packages:"; echo "  $n (no such package)"; exit 1; }
      awk -v n="$n" '$1 != n' $F/db >$F/db.new
      echo "$n $v" >>$F/db.new
      mv $F/db.new $F/db
    done ;;
esac
`;

describe.skipIf(!pre.ok)("Package on the busybox-only host with a stand-in apk", () => {
  it("busybox has neither dpkg nor apk: one line naming host, resource and tools", async () => {
    const r = await deploy([Package({ name: "nginx" })], "", undefined, "bb");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^failed        package nginx: host bb has neither dpkg-query and apt-get \(Debian, Ubuntu\) nor apk \(Alpine\), so it cannot install packages \(PATH=[^)]*\)\n/m);
  }, 120_000);

  it("one apk info, ONE apk add for the missing packages (a pin as NAME=VERSION), none when converged, apk del of what depc added only", async () => {
    const setup = await bed.exec(
      "bb",
      "mkdir -p /var/lib/fake-apk && cat >/bin/apk && chmod 755 /bin/apk && printf 'musl 1.2.4-r2\\n' >/var/lib/fake-apk/db && printf 'nginx 1.24.0-r6\\ncurl 8.5.0-r0\\n' >/var/lib/fake-apk/repo && : >/var/lib/fake-apk/calls",
      { input: APK_STANDIN },
    );
    expect(setup.stderr).toBe("");
    const calls = async () => (await bed.exec("bb", "cat /var/lib/fake-apk/calls; : >/var/lib/fake-apk/calls")).stdout.split("\n").filter(Boolean);
    const model = [Package({ name: "musl" }), Package({ name: "nginx" }), Package({ name: "curl", version: "8.4.0-r0" })];
    const apply = await deploy(model, "", undefined, "bb");
    expect(apply.stderr).toBe("");
    expect(lines(apply)).toEqual(["ok            package musl", "changed       package nginx (installed 1.24.0-r6)", "changed       package curl (installed 8.4.0-r0)"]);
    expect(await calls()).toEqual(["apk info -v", "apk add nginx curl=8.4.0-r0", "apk info -v"]);
    const again = await deploy(model, "", undefined, "bb");
    expect(again.stdout).toContain("0 changed, 3 ok, 0 failed");
    expect(await calls()).toEqual(["apk info -v"]);
    const removed = await deploy([Package({ name: "curl", version: "8.4.0-r0" })], "", undefined, "bb");
    expect(removed.stdout).toContain("removed       package nginx (apk del)\n");
    expect(removed.stdout).toContain("left          package musl (it was on the host before depc installed it: depc removes only the packages it installed)\n");
    expect((await calls()).filter((c) => !c.startsWith("apk info"))).toEqual(["apk del nginx"]);
  }, 300_000);
});
