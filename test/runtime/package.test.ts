/**
 * Package's runtime (kinds/package/package.sh) under every shell of the matrix.
 *
 * - `--check` with this machine's real dpkg-query and apt-cache (read-only: a
 *   check installs nothing): installed packages are ok, a pin to another
 *   version would upgrade, a missing package would install the index's
 *   candidate.
 * - Apply and removal with STAND-INS for dpkg-query, dpkg, apt-get and
 *   apt-cache (shell scripts that record their calls and keep a fake package
 *   database), on a PATH of busybox applets: installing for real needs a
 *   real host, which test/e2e/package.test.ts does on the test bed with real
 *   apt. The stand-ins prove the runtime's protocol: one query, one install
 *   call, the update-and-retry, the output of a failed install, what is and
 *   is not removed.
 * - Alpine: no apk can run on this machine (Debian 12 has no apk-tools), so
 *   a stand-in `apk` (same idea) stands for it.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { environment, Package } from "../../model/index.js";
import type { Resource } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { availableShells, busyboxPath, runScript, which, type Shell } from "../support/shells.js";
import { hostRoot, stateDir, statusLines } from "./helpers.js";

const shells = availableShells();
const busybox = which("busybox");
const haveDpkg = which("dpkg-query") !== undefined && which("apt-cache") !== undefined;
if (process.env.CI === "true" && (busybox === undefined || !haveDpkg)) throw new Error("the Package runtime test needs busybox, dpkg-query and apt-cache");

function bundleOf(resources: Resource[], dir: string, name: string): string {
  const result = compileValue(environment({ hosts: { h: resources } }), "pkg");
  if (result.bundles === undefined) throw new Error(result.diagnostics.map((d) => d.message).join("\n"));
  const path = join(dir, `${name}.sh`);
  writeFileSync(path, result.bundles.get("h")!);
  return path;
}

/** `shell` with PATH set to `path` (busybox sh included: its PATH is otherwise only the applets). */
const withPath = (shell: Shell, path: string): Shell => ({ ...shell, env: { ...shell.env, PATH: path } });

describe.skipIf(!haveDpkg).each(shells)("Package --check with this machine's dpkg-query and apt-cache, under $name", (shell) => {
  it("installed packages are ok, another pinned version would upgrade, a missing package would install the index's candidate", () => {
    const dir = hostRoot("pkg-check");
    const q = spawnSync("dpkg-query", ["-W", "-f", "${Version}", "dash"], { encoding: "utf8" });
    const dashVersion = q.stdout;
    // A package this machine does not have, and what its index offers (or that it has none).
    const missing = ["cowsay", "hello", "sl", "fortune-mod"].find((n) => spawnSync("dpkg-query", ["-W", n]).status !== 0)!;
    const policy = spawnSync("apt-cache", ["policy", missing], { encoding: "utf8" }).stdout;
    const candidate = /Candidate: (\S+)/.exec(policy)?.[1];
    const bundle = bundleOf([Package({ name: "dash" }), Package({ name: "libc6" }), Package({ name: missing }), Package({ name: "mksh", version: "99:1.0-1" })], dir, "check");
    const r = runScript(withPath(shell, process.env.PATH!), bundle, ["--check"], { env: { DEPC_STATE_DIR: stateDir(), TMPDIR: dir } });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(2);
    const mksh = spawnSync("dpkg-query", ["-W", "-f", "${Version}", "mksh"], { encoding: "utf8" }).stdout;
    expect(statusLines(r.stdout)).toEqual([
      "ok            package dash",
      "ok            package libc6",
      `would change  package ${missing} (install ${candidate === undefined || candidate === "(none)" ? "(not in the package index yet)" : candidate})`,
      mksh === "" ? "would change  package mksh (install 99:1.0-1)" : `would change  package mksh (upgrade ${mksh} -> 99:1.0-1)`,
    ]);
    expect(dashVersion).not.toBe("");
  });
});

/** Stand-ins for dpkg-query, dpkg, apt-get and apt-cache: a fake package database in $FAKE. */
const DEBIAN_STANDINS: Record<string, string> = {
  "dpkg-query": `#!/bin/sh
# Stand-in: -W -f FORMAT NAME...: one line per installed or known name (FORMAT is always depc's).
printf 'dpkg-query %s %s FORMAT' "$1" "$2" >>"$FAKE/calls"
shift 3
printf ' %s' "$@" >>"$FAKE/calls"
echo >>"$FAKE/calls"
rc=0
for n in "$@"; do
  line=$(awk -v n="$n" '$1 == n' "$FAKE/db")
  if [ -n "$line" ]; then
    set -- $line
    printf '%s\\t%s\\t%s\\t%s \\n' "$1" "$1" "$2" "$3"
  else
    echo "dpkg-query: no packages found matching $n" >&2
    rc=1
  fi
done
exit $rc
`,
  dpkg: `#!/bin/sh
# Stand-in: --compare-versions A gt B (string order is enough for the test's versions);
# --configure -a finishes what a killed run left ($FAKE/interrupted).
case $1 in
  --configure) printf '%s\\n' "dpkg $*" >>"$FAKE/calls"; rm -f "$FAKE/interrupted"; exit 0 ;;
esac
awk -v a="$2" -v b="$4" 'BEGIN { exit !(a > b) }'
`,
  "apt-cache": `#!/bin/sh
printf '%s\\n' "apt-cache $*" >>"$FAKE/calls"
shift
for n in "$@"; do
  v=$(awk -v n="$n" '$1 == n { print $2 }' "$FAKE/repo")
  printf '%s:\\n  Installed: (none)\\n  Candidate: %s\\n' "$n" "\${v:-(none)}"
done
`,
  "apt-get": `#!/bin/sh
# Stand-in: install (after 'update' when $FAKE/needs-update exists), update, -s remove, remove.
printf '%s\\n' "apt-get $*" >>"$FAKE/calls"
[ "$DEBIAN_FRONTEND" = noninteractive ] || { echo "E: not non-interactive" >&2; exit 1; }
case " $* " in
  *" update "*) : >"$FAKE/updated"; echo "Reading package lists..."; exit 0 ;;
  *" -s remove "*)
    n=$3
    v=$(awk -v n="$n" '$1 == n { print $2 }' "$FAKE/db")
    echo "Remv $n [$v]"
    [ ! -f "$FAKE/rdeps-$n" ] || sed 's/^/Remv /' "$FAKE/rdeps-$n"
    exit 0 ;;
  *" remove "*)
    n=$4
    awk -v n="$n" '$1 != n' "$FAKE/db" >"$FAKE/db.new" && mv "$FAKE/db.new" "$FAKE/db"
    echo "Removing $n ..."
    exit 0 ;;
esac
[ ! -f "$FAKE/fail" ] || { cat "$FAKE/fail"; exit 100; }
[ ! -f "$FAKE/interrupted" ] || { echo "E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem."; exit 100; }
for w in "$@"; do
  case $w in -*|install|*::*) continue ;; esac
  n=\${w%%=*}
  v=$(awk -v n="$n" '$1 == n { print $2 }' "$FAKE/repo")
  if [ -z "$v" ] || { [ -f "$FAKE/needs-update" ] && [ ! -f "$FAKE/updated" ]; }; then
    echo "Reading package lists..."
    echo "E: Unable to locate package $n"
    exit 100
  fi
done
for w in "$@"; do
  case $w in -*|install|*::*) continue ;; esac
  n=\${w%%=*}
  v=$(awk -v n="$n" '$1 == n { print $2 }' "$FAKE/repo")
  case $w in *=*) v=\${w#*=} ;; esac
  awk -v n="$n" '$1 != n' "$FAKE/db" >"$FAKE/db.new"
  echo "$n $v ii" >>"$FAKE/db.new"
  mv "$FAKE/db.new" "$FAKE/db"
  echo "Setting up $n ($v) ..."
done
`,
};

/** Stand-in apk: info -v, add [NAME=VERSION...], update, del, version -t. */
const APK_STANDIN = `#!/bin/sh
printf '%s\\n' "apk $*" >>"$FAKE/calls"
case $1 in
  info) awk '{ print $1 "-" $2 }' "$FAKE/db" ;;
  version) awk -v a="$3" -v b="$4" 'BEGIN { print (a > b) ? ">" : (a < b) ? "<" : "=" }' ;;
  update) : >"$FAKE/updated" ;;
  del) awk -v n="$2" '$1 != n' "$FAKE/db" >"$FAKE/db.new" && mv "$FAKE/db.new" "$FAKE/db" ;;
  add)
    shift
    if [ -f "$FAKE/needs-update" ] && [ ! -f "$FAKE/updated" ]; then echo "ERROR: unable to select packages:"; echo "  $1 (no such package)"; exit 1; fi
    for w in "$@"; do
      n=\${w%%=*}
      v=$(awk -v n="$n" '$1 == n { print $2 }' "$FAKE/repo")
      case $w in *=*) v=\${w#*=} ;; esac
      awk -v n="$n" '$1 != n' "$FAKE/db" >"$FAKE/db.new"
      echo "$n $v" >>"$FAKE/db.new"
      mv "$FAKE/db.new" "$FAKE/db"
    done ;;
esac
`;

function fakeHost(label: string, standins: Record<string, string>, db: string, repo: string) {
  const root = hostRoot(label);
  const fake = join(root, "fake");
  const bin = join(root, "bin");
  mkdirSync(fake);
  mkdirSync(bin);
  for (const [name, text] of Object.entries(standins)) {
    writeFileSync(join(bin, name), text);
    chmodSync(join(bin, name), 0o755);
  }
  writeFileSync(join(fake, "db"), db);
  writeFileSync(join(fake, "repo"), repo);
  writeFileSync(join(fake, "calls"), "");
  const state = stateDir();
  return {
    root,
    fake,
    state,
    calls: () => readFileSync(join(fake, "calls"), "utf8").split("\n").filter(Boolean),
    resetCalls: () => writeFileSync(join(fake, "calls"), ""),
    db: () => readFileSync(join(fake, "db"), "utf8"),
    run(shell: Shell, resources: Resource[], args: string[] = [], name = "b") {
      const bundle = bundleOf(resources, root, name);
      return runScript(withPath(shell, `${bin}:${busyboxPath(busybox!)}`), bundle, args, { env: { DEPC_STATE_DIR: state, TMPDIR: root, FAKE: fake } });
    },
  };
}

const APT_OPTS = "install -y -q --no-install-recommends --allow-downgrades -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold";

describe.skipIf(busybox === undefined).each(shells)("Package with stand-ins for dpkg and apt (recorded calls), under $name", (shell) => {
  it("one dpkg-query for all; the missing ones in ONE apt-get install, retried once after apt-get update; a second run runs no apt-get", () => {
    const host = fakeHost("pkg-apt", DEBIAN_STANDINS, "base 1.0 ii\n", "alpha 2.0-1\nbeta 3.1\n");
    writeFileSync(join(host.fake, "needs-update"), "");
    const model = [Package({ name: "base" }), Package({ name: "alpha" }), Package({ name: "beta", version: "3.0" })];
    const check = host.run(shell, model, ["--check"]);
    expect(check.stderr).toBe("");
    expect(statusLines(check.stdout)).toEqual(["ok            package base", "would change  package alpha (install 2.0-1)", "would change  package beta (install 3.0)"]);
    expect(host.calls()).toEqual(["dpkg-query -W -f FORMAT base alpha beta", "apt-cache policy alpha beta"]);
    host.resetCalls();

    const apply = host.run(shell, model);
    expect(apply.stderr).toBe("");
    expect(apply.status).toBe(0);
    expect(statusLines(apply.stdout)).toEqual(["ok            package base", "changed       package alpha (installed 2.0-1)", "changed       package beta (installed 3.0)"]);
    expect(host.calls()).toEqual([
      "dpkg-query -W -f FORMAT base alpha beta",
      `apt-get ${APT_OPTS} alpha beta=3.0`,
      "apt-get update -q",
      `apt-get ${APT_OPTS} alpha beta=3.0`,
      "dpkg-query -W -f FORMAT base alpha beta",
    ]);
    // What depc installed (base was there before).
    expect(readFileSync(join(host.state, "packages"), "utf8")).toBe("alpha\nbeta\n");
    host.resetCalls();

    const again = host.run(shell, model);
    expect(again.stdout).toContain(": 3 resources: 0 changed, 3 ok, 0 failed\n");
    expect(host.calls().map((c) => c.split(" ")[0])).toEqual(["dpkg-query"]);
    host.resetCalls();

    // A new pin upgrades; a pin to what is installed is ok.
    const pinned = host.run(shell, [Package({ name: "base", version: "1.0" }), Package({ name: "alpha" }), Package({ name: "beta", version: "3.1" })]);
    expect(statusLines(pinned.stdout)).toEqual(["ok            package base", "ok            package alpha", "changed       package beta (upgraded 3.0 -> 3.1)"]);
    expect(host.calls().filter((c) => c.startsWith("apt-get"))).toEqual([`apt-get ${APT_OPTS} beta=3.1`]);
  });

  it("a failed install: one failed line with apt's output as lines; the run stops there", () => {
    const host = fakeHost("pkg-apt-fail", DEBIAN_STANDINS, "", "alpha 2.0\nbeta 3.1\n");
    writeFileSync(join(host.fake, "fail"), "Reading package lists...\nE: Sub-process /usr/bin/dpkg returned an error code (1)\n");
    const r = host.run(shell, [Package({ name: "alpha" }), Package({ name: "beta" })]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(
      [
        `failed        package alpha: apt-get install alpha beta failed (exit status 100):`,
        "    Reading package lists...",
        "    E: Sub-process /usr/bin/dpkg returned an error code (1)",
        "depc: pkg/h: 2 resources: 0 changed, 0 ok, 1 failed, 1 not run",
        "",
      ].join("\n"),
    );
    expect(r.stderr).toBe("depc: pkg/h: package alpha: apt-get install alpha beta failed (exit status 100): E: Sub-process /usr/bin/dpkg returned an error code (1)\n");
    const check = host.run(shell, [Package({ name: "alpha" }), Package({ name: "beta" })], ["--check"]);
    expect(check.status).toBe(2);
  });

  it("removal: only what depc installed, with apt-get remove; never a package that was there before, nor one others depend on", () => {
    const host = fakeHost("pkg-apt-rm", DEBIAN_STANDINS, "base 1.0 ii\n", "alpha 2.0\nbeta 3.1\n");
    const first = host.run(shell, [Package({ name: "base" }), Package({ name: "alpha" }), Package({ name: "beta" })]);
    expect(first.stdout + first.stderr).toContain(": 3 resources: 2 changed, 1 ok, 0 failed\n");
    writeFileSync(join(host.fake, "rdeps-beta"), "gamma [1.0]\n");
    host.resetCalls();
    const check = host.run(shell, [], ["--check"]);
    expect(check.stdout.split("\n").filter((l) => /^(would remove|left) /.test(l))).toEqual([
      "left          package beta (removing it would also remove packages that depend on it: gamma)",
      "would remove  package alpha (apt-get remove)",
      "left          package base (it was on the host before depc installed it: depc removes only the packages it installed)",
    ]);
    const apply = host.run(shell, []);
    expect(apply.status).toBe(0);
    expect(apply.stderr).toBe("depc: pkg/h: warning: package beta left in place: removing it would also remove packages that depend on it: gamma\n");
    expect(host.db()).toBe("base 1.0 ii\nbeta 3.1 ii\n");
    expect(host.calls().filter((c) => c.startsWith("apt-get remove"))).toEqual(["apt-get remove -y -q alpha"]);
    expect(readFileSync(join(host.state, "packages"), "utf8")).toBe("beta\n");
  });

  it("after a run killed during an install (dpkg interrupted), the next run finishes it with dpkg --configure -a and installs", () => {
    const host = fakeHost("pkg-apt-killed", DEBIAN_STANDINS, "", "alpha 2.0\n");
    writeFileSync(join(host.fake, "interrupted"), "");
    const r = host.run(shell, [Package({ name: "alpha" })]);
    expect(r.stderr).toBe("");
    expect(statusLines(r.stdout)).toEqual(["changed       package alpha (installed 2.0)"]);
    expect(host.calls().filter((c) => !c.startsWith("dpkg-query"))).toEqual([`apt-get ${APT_OPTS} alpha`, "dpkg --configure -a --force-confdef --force-confold", `apt-get ${APT_OPTS} alpha`]);
  });

  it("a host without dpkg-query/apt-get and without apk: one line naming host, resource and tools", () => {
    const host = fakeHost("pkg-none", {}, "", "");
    const r = host.run(shell, [Package({ name: "alpha" }), Package({ name: "beta" })]);
    expect(r.status).toBe(1);
    const message = `host h has neither dpkg-query and apt-get (Debian, Ubuntu) nor apk (Alpine), so it cannot install packages (PATH=${join(host.root, "bin")}:${busyboxPath(busybox!)})`;
    expect(statusLines(r.stdout)).toEqual([`failed        package alpha: ${message}`]);
    expect(r.stderr).toBe(`depc: pkg/h: package alpha: ${message}\n`);
  });
});

describe.skipIf(busybox === undefined).each(shells)("Package on Alpine with a STAND-IN apk (no apk can run on this machine), under $name", (shell) => {
  it("one apk info, ONE apk add (retried after apk update), pins, no apk add when converged, apk del of what depc added", () => {
    const host = fakeHost("pkg-apk", { apk: APK_STANDIN }, "musl 1.2.4-r2\nnginx-mod-http 1.0-r0\n", "nginx 1.24.0-r6\ncurl 8.5.0-r0\n");
    writeFileSync(join(host.fake, "needs-update"), "");
    const model = [Package({ name: "musl" }), Package({ name: "nginx" }), Package({ name: "curl", version: "8.4.0-r0" })];
    const check = host.run(shell, model, ["--check"]);
    expect(statusLines(check.stdout)).toEqual(["ok            package musl", "would change  package nginx (install (the index's version))", "would change  package curl (install 8.4.0-r0)"]);
    host.resetCalls();
    const apply = host.run(shell, model);
    expect(apply.stderr).toBe("");
    expect(statusLines(apply.stdout)).toEqual(["ok            package musl", "changed       package nginx (installed 1.24.0-r6)", "changed       package curl (installed 8.4.0-r0)"]);
    expect(host.calls()).toEqual(["apk info -v", "apk add nginx curl=8.4.0-r0", "apk update", "apk add nginx curl=8.4.0-r0", "apk info -v"]);
    host.resetCalls();
    expect(host.run(shell, model).stdout).toContain("0 changed, 3 ok");
    expect(host.calls()).toEqual(["apk info -v"]);
    host.resetCalls();
    const upgrade = host.run(shell, [Package({ name: "musl" }), Package({ name: "curl", version: "8.5.0-r0" })]);
    expect(upgrade.status).toBe(0);
    expect(statusLines(upgrade.stdout)).toEqual(["ok            package musl", "changed       package curl (upgraded 8.4.0-r0 -> 8.5.0-r0)"]);
    expect(upgrade.stdout).toContain("removed       package nginx (apk del)\n");
    expect(host.calls().filter((c) => !c.startsWith("apk info"))).toEqual(["apk version -t 8.5.0-r0 8.4.0-r0", "apk add curl=8.5.0-r0", "apk del nginx"]);
    const none = host.run(shell, []);
    expect(none.stdout).toContain("removed       package curl (apk del)\n");
    expect(none.stdout).toContain("left          package musl (it was on the host before depc installed it: depc removes only the packages it installed)\n");
    expect(host.db()).toBe("musl 1.2.4-r2\nnginx-mod-http 1.0-r0\n");
  });
});

describe.skipIf(busybox === undefined).each(shells)("dpkg-query and apk output parsing, under $name", (shell) => {
  it("depc_package_installed / depc_package_apk_installed: multi-arch names, removed-but-configured, longer names, versions", () => {
    const host = fakeHost("pkg-parse", {}, "", "");
    const state = join(host.root, "state.txt");
    writeFileSync(state, "libc6:amd64\tlibc6\t2.36-9+deb12u14\tii \nnginx\tnginx\t1.22.1-9\trc \nnginx-common\tnginx-common\t1.22.1-9\tii \ndash\tdash\t0.5.12-2\tii \n");
    const apk = join(host.root, "apk.txt");
    writeFileSync(apk, "nginx-mod-http-lua-1.24.0-r6\nnginx-1.24.0-r6\nmusl-1.2.4-r2\n");
    const script = join(host.root, "parse.sh");
    const fns = readFileSync(join(import.meta.dirname, "../../kinds/package/package.sh"), "utf8");
    writeFileSync(
      script,
      `${fns}\ndepc_tab=$(printf '\\t')\nfor n in libc6 libc6:amd64 nginx nginx-common dash nosuch; do depc_package_installed '${state}' "$n" && echo "$n=$depc_pkg_version" || echo "$n -"; done\n` +
        `for n in nginx nginx-mod-http musl mus; do depc_package_apk_installed '${apk}' "$n" && echo "$n=$depc_pkg_version" || echo "$n -"; done\n`,
    );
    const r = runScript(shell, script);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      "libc6=2.36-9+deb12u14\nlibc6:amd64=2.36-9+deb12u14\nnginx -\nnginx-common=1.22.1-9\ndash=0.5.12-2\nnosuch -\n" + "nginx=1.24.0-r6\nnginx-mod-http -\nmusl=1.2.4-r2\nmus -\n",
    );
  });
});
