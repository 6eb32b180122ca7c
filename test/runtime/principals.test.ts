/**
 * User and Group on a real system user database: shadow's useradd, usermod,
 * userdel, groupadd and groupdel, run by bundles under every shell of the
 * matrix as root inside a throwaway overlay of this machine's root
 * filesystem (test/support/sandbox.ts): this machine's /etc/passwd is never
 * written. busybox sh gets /usr/sbin after its applets (this machine's
 * busybox has no adduser; the busybox-only PATH shows the missing-tool line).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Directory, Group, User, environment } from "../../model/index.js";
import type { Placeable } from "../../model/component.js";
import { compileValue } from "../support/inmemory.js";
import { Sandbox } from "../support/sandbox.js";
import { availableShells, requireTool, type Shell } from "../support/shells.js";

const why = Sandbox.unavailable() ?? (requireTool("useradd") ? undefined : "needs useradd (Debian's passwd)");
if (why !== undefined) {
  if (process.env.CI === "true") throw new Error(`the User/Group runtime test ${why}`);
  console.warn(`[principals runtime] skipping: ${why}`);
}

const dir = mkdtempSync(join(tmpdir(), "depc-principals-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Runs `items` as host h's bundle inside the sandbox. */
function apply(sandbox: Sandbox, shell: Shell, items: readonly Placeable[], args: readonly string[] = []) {
  const path = join(dir, `b${++n}.sh`);
  writeFileSync(path, compileValue(environment({ hosts: { h: [...items] } }), "prod").bundles!.get("h")!);
  return sandbox.run(shell, path, args, { DEPC_STATE_DIR: "/var/lib/depc-principals-test" });
}
const lines = (stdout: string) => stdout.split("\n").filter((l) => /^(ok|changed|would change|failed|removed|would remove|left) /.test(l));
const entry = (sandbox: Sandbox, db: string, name: string) => sandbox.exec(["getent", db, name]).stdout.trim();

describe.skipIf(why !== undefined).each(availableShells())("User and Group under $name", (shell) => {
  // busybox sh: its applets first, then shadow's tools.
  const withShadow: Shell = shell.env?.PATH ? { ...shell, env: { ...shell.env, PATH: `${shell.env.PATH}:/usr/sbin:/sbin` } } : shell;

  it("creates, corrects each differing attribute, and removes only what depc created", () => {
    const sandbox = new Sandbox();
    try {
      const model = (shellPath: string, groups: string[]) => [
        Directory({ path: "/srv/app/data", owner: "app", group: "web" }),
        User({ name: "app", home: "/srv/app", createHome: true, shell: shellPath, group: "web", groups, comment: "App server" }),
        Group({ name: "web" }),
        Group({ name: "ops", gid: 4711 }),
        User({ name: "daemon" }),
      ];
      const check = apply(sandbox, withShadow, model("/bin/sh", ["ops"]), ["--check"]);
      expect(check.stderr).toBe("");
      expect(check.status).toBe(2);
      expect(lines(check.stdout)).toEqual([
        "would change  group web (created)",
        "would change  group ops (created)",
        "would change  user app (created)",
        "would change  directory /srv/app/data (created)",
        "ok            user daemon",
      ]);
      expect(entry(sandbox, "passwd", "app")).toBe("");

      const first = apply(sandbox, withShadow, model("/bin/sh", ["ops"]));
      expect(first.stderr).toBe("");
      expect(first.status).toBe(0);
      const web = entry(sandbox, "group", "web").split(":")[2];
      expect(entry(sandbox, "passwd", "app")).toMatch(new RegExp(`^app:x:\\d+:${web}:App server:/srv/app:/bin/sh$`));
      expect(entry(sandbox, "group", "ops")).toBe("ops:x:4711:app");
      expect(sandbox.exec(["stat", "-c", "%U:%G", "/srv/app", "/srv/app/data"]).stdout).toBe("app:web\napp:web\n");

      const again = apply(sandbox, withShadow, model("/bin/sh", ["ops"]));
      expect(again.status).toBe(0);
      expect(lines(again.stdout).every((l) => l.startsWith("ok "))).toBe(true);

      // Someone changed the user by hand; the model changes too.
      expect(sandbox.exec(["usermod", "-c", "edited", "-d", "/home/x", "app"]).status).toBe(0);
      const drift = apply(sandbox, withShadow, model("/bin/bash", []), ["--check"]);
      expect(drift.status).toBe(2);
      expect(lines(drift.stdout)).toContain("would change  user app (home /home/x -> /srv/app, shell /bin/sh -> /bin/bash, groups ops -> (none), comment)");
      const fix = apply(sandbox, withShadow, model("/bin/bash", []));
      expect(fix.stderr).toBe("");
      expect(lines(fix.stdout)).toContain("changed       user app (home /home/x -> /srv/app, shell /bin/sh -> /bin/bash, groups ops -> (none), comment)");
      expect(entry(sandbox, "passwd", "app")).toMatch(new RegExp(`^app:x:\\d+:${web}:App server:/srv/app:/bin/bash$`));
      expect(entry(sandbox, "group", "ops")).toBe("ops:x:4711:");

      // The users and groups leave the model: depc's go (the directory owned
      // by app before app), the system's stay, and so does app's home.
      const gone = apply(sandbox, withShadow, [Group({ name: "web" })]);
      expect(gone.stderr).toBe("");
      expect(lines(gone.stdout)).toEqual([
        "ok            group web",
        "left          user daemon (it existed before depc managed it)",
        "removed       group ops",
        "removed       directory /srv/app/data",
        "removed       user app",
      ]);
      expect(gone.status).toBe(0);
      expect(entry(sandbox, "passwd", "app")).toBe("");
      expect(entry(sandbox, "group", "ops")).toBe("");
      expect(entry(sandbox, "passwd", "daemon")).toMatch(/^daemon:/);
      expect(sandbox.exec(["test", "-d", "/srv/app"]).status).toBe(0);
    } finally {
      sandbox.remove();
    }
  });

  it("removing a User keeps its primary group when the model still declares that Group (userdel would delete a same-named group)", () => {
    const sandbox = new Sandbox();
    try {
      const first = apply(sandbox, withShadow, [Group({ name: "svc" }), User({ name: "svc", group: "svc" })]);
      expect(first.status).toBe(0);
      const group = entry(sandbox, "group", "svc");
      expect(group).toMatch(/^svc:x:\d+:$/);
      const gone = apply(sandbox, withShadow, [Group({ name: "svc" })]);
      expect(gone.stderr).toBe("");
      expect(lines(gone.stdout)).toEqual(["ok            group svc", "removed       user svc"]);
      expect(entry(sandbox, "passwd", "svc")).toBe("");
      expect(entry(sandbox, "group", "svc")).toBe(group);
    } finally {
      sandbox.remove();
    }
  });

  if (shell.env?.PATH) {
    it("a host with neither useradd nor adduser fails with one line naming the host and both tools", () => {
      const sandbox = new Sandbox();
      try {
        const r = apply(sandbox, shell, [User({ name: "app" })]);
        expect(r.status).toBe(1);
        expect(lines(r.stdout)).toEqual([`failed        user app: cannot create user app: host h has neither 'useradd' nor busybox 'adduser' (PATH=${shell.env!.PATH})`]);
        expect(r.stderr).toBe(`depc: prod/h: user app: cannot create user app: host h has neither 'useradd' nor busybox 'adduser' (PATH=${shell.env!.PATH})\n`);
      } finally {
        sandbox.remove();
      }
    });
  }
});
