/**
 * User and Group, compiler side: one test per diagnostic with the exact text
 * a user sees (DEPC2340-2343), the lowering, and the implicit ordering (a
 * resource whose owner, user or group names a User/Group of the host runs
 * after it). Their behaviour on a host: test/runtime/principals.test.ts.
 */
import { describe, expect, it } from "vitest";
import { Directory, Download, Extract, File, Group, User, environment, type Resource } from "../../model/index.js";
import { compileValue } from "../../test/support/inmemory.js";
import { compileFiles } from "../../test/support/project.js";

const header = `import { environment, Group, User } from "depc";\n`;

const cases: [code: string, call: string, message: string][] = [
  ["DEPC2340", `User({ name: "App" })`, `User name "App" cannot be used: it must be lower case letters, digits, '_' and '-', start with a letter or '_' (and may end in '$').`],
  ["DEPC2340", `Group({ name: "-g" })`, `Group name "-g" cannot be used: it must be lower case letters, digits, '_' and '-', start with a letter or '_' (and may end in '$').`],
  ["DEPC2340", `User({ name: "a${"b".repeat(32)}" })`, `User name "a${"b".repeat(32)}" cannot be used: it is 33 characters long; at most 32 are allowed.`],
  ["DEPC2340", `Group({} as any)`, `Group name undefined cannot be used: a name is required.`],
  ["DEPC2341", `User({ name: "app", uid: -1 })`, `User "app": uid -1 is not a whole number from 0 to 4294967294.`],
  ["DEPC2341", `Group({ name: "app", gid: 4294967295 })`, `Group "app": gid 4294967295 is not a whole number from 0 to 4294967294.`],
  ["DEPC2342", `User({ name: "app", shell: "bash" })`, `User "app": shell "bash" must be an absolute path without ':' or control characters.`],
  ["DEPC2342", `User({ name: "app", groups: ["ok", "Bad"] })`, `User "app": groups[1] "Bad" is not a group name.`],
  ["DEPC2342", `User({ name: "app", group: "x y" })`, `User "app": group "x y" is not a group name or gid.`],
  ["DEPC2342", `User({ name: "app", comment: "a:b" })`, `User "app": comment "a:b" must be text without ':' or control characters.`],
  ["DEPC2342", `User({ name: "app", createHome: "yes" as any })`, `User "app": createHome must be true or false, not "yes".`],
  ["DEPC2343", `Group({ name: "app", system: 1 as any })`, `Group "app": system must be true or false, not 1.`],
  ["DEPC2001", `User({ name: "app", home: "srv/app" })`, `User path must be absolute: "srv/app"`],
];

describe("User and Group diagnostics", () => {
  for (const [code, call, message] of cases) {
    it(`${code}: ${message}`, async () => {
      const result = await compileFiles({ "env/prod.ts": `${header}export default environment({ hosts: { web1: [\n  ${call},\n] } });\n` });
      expect(result.ok).toBe(false);
      expect(result.printed).toBe(`env/prod.ts:3:3 - error ${code}: ${message}\n\n3   ${call},\n    ${"~".repeat(call.indexOf("("))}\n\n`);
    });
  }

  it("two Users of one name on a host collide (DEPC2005); a User and a Group of one name do not", () => {
    expect(() => compileValue(environment({ hosts: { h: [User({ name: "app" }), User({ name: "app" })] } }))).toThrow('DEPC2005: "app" is declared twice on host "h": as user here and as user elsewhere.');
    expect(compileValue(environment({ hosts: { h: [User({ name: "app" }), Group({ name: "app" })] } })).ok).toBe(true);
  });
});

const steps = (resources: Resource[]) =>
  compileValue(environment({ hosts: { h: resources } }))
    .bundles!.get("h")!
    .split("\n")
    .filter((l) => l.startsWith("  depc_step "));

describe("User and Group lowering", () => {
  it("passes only what the model sets; groups sorted, once each", () => {
    expect(steps([User({ name: "app", home: "/srv/app/", shell: "/bin/sh", uid: 1500, group: 1500, groups: ["www-data", "adm", "adm"], comment: "App, Inc." }), Group({ name: "ops", system: false, gid: 700 })])).toEqual([
      "  depc_step 1 user 'app' depc_user 'app' '1' '0' 'home,shell,uid,group,groups,comment' '/srv/app' '/bin/sh' '1500' '1500' 'adm,www-data' 'App, Inc.'",
      "  depc_step 2 group 'ops' depc_group 'ops' '0' '700'",
    ]);
    expect(steps([User({ name: "app", createHome: true, system: false })])).toEqual(["  depc_step 1 user 'app' depc_user 'app' '0' '1' '' '' '' '' '' '' ''"]);
  });
});

describe("implicit ordering by the principals a resource names", () => {
  const order = (resources: Resource[]) => steps(resources).map((l) => l.split(" ").slice(4, 6).join(" "));

  it("a File, Directory, Download or Extract owned by a User or Group of the host runs after it, without `after`", () => {
    const resources = [
      Directory({ path: "/srv/app", owner: "app", group: "app" }),
      File({ path: "/srv/app/x.ini", content: "x\n", owner: 0, group: "staff" }),
      Download({ path: "/srv/app/a.tgz", url: "http://h/a.tgz", sha256: "a".repeat(64), owner: "app" }),
      Extract({ archive: "/srv/app/a.tgz", to: "/srv/app/cur", group: "app" }),
      User({ name: "app", group: "app", groups: ["staff"] }),
      Group({ name: "app" }),
      Group({ name: "staff" }),
    ];
    expect(order(resources)).toEqual(["group 'app'", "group 'staff'", "user 'app'", "directory '/srv/app'", "file '/srv/app/x.ini'", "download '/srv/app/a.tgz'", "extract '/srv/app/cur'"]);
  });

  it("an Extract runs after the Download that makes its archive, wherever each is declared", () => {
    expect(order([Extract({ archive: "/srv/a.zip", to: "/srv/x" }), Download({ path: "/srv//a.zip", url: "https://h/a.zip", sha256: "b".repeat(64) })])).toEqual(["download '/srv/a.zip'", "extract '/srv/x'"]);
  });

  it("a cycle through an implicit edge names it", () => {
    const user = User({ name: "app" });
    expect(() => compileValue(environment({ hosts: { h: [Directory({ path: "/srv", owner: "app", before: [user] }), user] } }))).toThrow(
      /DEPC4004: Dependency cycle on host "h": .*\n[\s\S]*directory \/srv: its owner app is made by user app/,
    );
  });
});

describe("references to resources of another host", () => {
  it("an Extract named in `after` but placed on another host is named by its directory", () => {
    const ex = Extract({ archive: "/srv/a.zip", to: "/srv/x" });
    expect(() => compileValue(environment({ hosts: { h: [File({ path: "/srv/f", content: "", after: [ex] })], g: [ex] } }))).toThrow(
      'DEPC4010: file "/srv/f" (after) refers to extract "/srv/x", which is not on host "h".',
    );
  });
});
