/**
 * The runtime under every shell of the matrix: apply, idempotence, --check
 * with diffs, content transport, symlinks, directories, failures, reports.
 */
import { chmodSync, lstatSync, unlinkSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Command, environment } from "../../model/index.js";
import { compileValue } from "../support/inmemory.js";
import { availableShells, runScript } from "../support/shells.js";
import type { Resource } from "./bundle.js";
import { hostRoot, leftoverTemps, stateDir, statusLines, writeBundle } from "./helpers.js";

const isRoot = process.getuid?.() === 0;
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

function mode(path: string): number {
  return statSync(path).mode & 0o7777;
}

describe.each(availableShells())("runtime under $name", (shell) => {
  it("applies a fresh host, then a second apply reports every resource ok", () => {
    const root = hostRoot(shell.name);
    const resources: Resource[] = [
      { kind: "directory", path: `${root}/srv/app`, mode: "0750" },
      { kind: "file", path: `${root}/srv/app/app.ini`, content: "[app]\nport = 8080\n" },
      { kind: "file", path: `${root}/srv/app/secret.ini`, content: "key = x\n", mode: "0600" },
      { kind: "symlink", path: `${root}/srv/current`, target: `${root}/srv/app` },
      { kind: "directory", path: `${root}/srv/data/a/b`, mode: "0700" },
    ];
    const bundle = writeBundle(root, { env: "prod", host: "web1", resources });
    const first = bundle.run(shell);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(statusLines(first.stdout)).toEqual([
      `changed       directory ${root}/srv/app (created)`,
      `changed       file ${root}/srv/app/app.ini (created)`,
      `changed       file ${root}/srv/app/secret.ini (created)`,
      `changed       symlink ${root}/srv/current (created)`,
      `changed       directory ${root}/srv/data/a/b (created)`,
    ]);
    expect(first.stdout).toMatch(/depc: prod\/web1: 5 resources: 5 changed, 0 ok, 0 failed\n$/);
    expect(readFileSync(`${root}/srv/app/app.ini`, "utf8")).toBe("[app]\nport = 8080\n");
    expect(mode(`${root}/srv/app`)).toBe(0o750);
    expect(mode(`${root}/srv/app/app.ini`)).toBe(0o644);
    expect(mode(`${root}/srv/app/secret.ini`)).toBe(0o600);
    expect(mode(`${root}/srv/data/a/b`)).toBe(0o700);
    expect(readlinkSync(`${root}/srv/current`)).toBe(`${root}/srv/app`);

    const second = bundle.run(shell);
    expect(second.status).toBe(0);
    expect(second.stderr).toBe("");
    const lines = statusLines(second.stdout);
    expect(lines).toHaveLength(5);
    for (const l of lines) expect(l).toMatch(/^ok {12}\S/);
    expect(second.stdout).toMatch(/5 resources: 0 changed, 5 ok, 0 failed\n$/);

    const check = bundle.run(shell, ["--check"]);
    expect(check.status).toBe(0);
    expect(check.stdout).toMatch(/depc: prod\/web1 \(check\): 5 resources: 0 would change, 5 ok\n$/);

    const quiet = bundle.run(shell, ["--quiet"]);
    expect(quiet.status).toBe(0);
    expect(quiet.stdout).toBe("depc: prod/web1: 5 resources: 0 changed, 5 ok, 0 failed\n");
    expect(readdirSync(bundle.tmp)).toEqual([]);
    expect(leftoverTemps(root)).toEqual([]);
  });

  it("--check shows a unified diff after a manual edit, exits 2 and changes nothing", () => {
    const root = hostRoot(shell.name);
    const path = `${root}/etc/app.conf`;
    const bundle = writeBundle(root, {
      env: "prod",
      host: "web1",
      resources: [
        { kind: "directory", path: `${root}/etc` },
        { kind: "file", path, content: "a\nb\nc\n" },
        { kind: "file", path: `${root}/etc/new.conf`, content: "fresh\n" },
      ],
    });
    expect(bundle.run(shell).status).toBe(0);
    writeFileSync(path, "a\nB\nc\n");
    const before = statSync(path);
    const check = bundle.run(shell, ["--check"]);
    writeFileSync(`${root}/marker`, ""); // (keeps the root non-empty for the leftover check)
    expect(check.stderr).toBe("");
    expect(check.status).toBe(2);
    expect(check.stdout).toContain(
      [
        `would change  file ${path} (content)`,
        `--- ${path}`,
        `+++ ${path} (depc)`,
        "@@ -1,3 +1,3 @@",
        " a",
        "-B",
        "+b",
        " c",
        "",
      ].join("\n"),
    );
    expect(check.stdout).toMatch(/\(check\): 3 resources: 1 would change, 2 ok\n$/);
    expect(readFileSync(path, "utf8")).toBe("a\nB\nc\n");
    expect(statSync(path).mtimeMs).toBe(before.mtimeMs);

    // a missing file diffs against /dev/null
    unlinkSync(`${root}/etc/new.conf`);
    const created = bundle.run(shell, ["--check"]);
    expect(created.status).toBe(2);
    expect(created.stdout).toContain(
      [`would change  file ${root}/etc/new.conf (created)`, `--- ${root}/etc/new.conf`, `+++ ${root}/etc/new.conf (depc)`, "@@ -0,0 +1 @@", "+fresh", ""].join(
        "\n",
      ),
    );
    expect(leftoverTemps(root)).toEqual([]);
    expect(readdirSync(bundle.tmp)).toEqual([]);

    const apply = bundle.run(shell);
    expect(apply.status).toBe(0);
    expect(statusLines(apply.stdout)).toEqual([
      `ok            directory ${root}/etc`,
      `changed       file ${path} (content)`,
      `changed       file ${root}/etc/new.conf (created)`,
    ]);
    expect(readFileSync(path, "utf8")).toBe("a\nb\nc\n");
  });

  it("transports content byte-exactly: no final newline, DEPC_EOF lines, all 256 bytes, empty, large", () => {
    const root = hostRoot(shell.name);
    const big = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 256);
    const cases: Array<[string, string | Uint8Array]> = [
      ["nonl.txt", "first line\nno final newline"],
      ["nonl-one.txt", "x"],
      ["nonl-lead.txt", "\n\nafter two newlines"],
      ["eof.txt", "before\nDEPC_EOF\nDEPC_EOF_2\nafter\n"],
      ["eof-nonl.txt", "DEPC_EOF\nDEPC_EOF"],
      ["special.txt", "tab\there $HOME `x` 'q' \"d\" \\back\\slash\\\n%s %% ü € 😀\n"],
      ["binary.bin", ALL_BYTES],
      ["crlf.txt", "dos\r\nline\r\n"],
      ["empty", ""],
      ["blank-lines.txt", "\n\n\n"],
      ["big.bin", big],
    ];
    const bundle = writeBundle(root, {
      resources: cases.map(([name, content]) => ({ kind: "file", path: `${root}/${name}`, content })),
    });
    const run = bundle.run(shell);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    for (const [name, content] of cases) {
      const expected = typeof content === "string" ? Buffer.from(content, "utf8") : Buffer.from(content);
      expect(readFileSync(`${root}/${name}`), name).toEqual(expected);
    }
    const again = bundle.run(shell);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/0 changed, 11 ok, 0 failed\n$/);
  });

  it("--check shows 'Binary content differs' for binary files", () => {
    const root = hostRoot(shell.name);
    const bundle = writeBundle(root, { resources: [{ kind: "file", path: `${root}/b.bin`, content: ALL_BYTES }] });
    writeFileSync(`${root}/b.bin`, "old text\n");
    const check = bundle.run(shell, ["--check"]);
    expect(check.status).toBe(2);
    expect(check.stdout).toMatch(
      /would change {2}file \S+\/b\.bin \(content\)\nBinary content differs \(sha256 [0-9a-f]{64} -> 40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880\)\n/,
    );
  });

  it("manages symlink targets with quotes, $, backticks, newlines and a leading -", () => {
    const root = hostRoot(shell.name);
    const targets = [`-rf '$x' \`id\` "q"`, "ends in newline\n", "two\n\n", "\nleading newline", "back\\slash", "*"];
    const bundle = writeBundle(root, {
      resources: targets.map((target, i) => ({ kind: "symlink", path: `${root}/link${i}`, target })),
    });
    const first = bundle.run(shell);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    targets.forEach((t, i) => expect(readlinkSync(`${root}/link${i}`)).toBe(t));
    const second = bundle.run(shell);
    expect(second.stdout).toMatch(/0 changed, 6 ok, 0 failed\n$/);
    expect(readdirSync(root).filter((n) => n.startsWith("."))).toEqual([]);
  });

  it("replaces wrong links (also links to directories) and refuses real files and directories", () => {
    const root = hostRoot(shell.name);
    mkdirSync(`${root}/dir`);
    mkdirSync(`${root}/other`);
    symlinkSync("wrong", `${root}/l1`);
    symlinkSync(`${root}/other`, `${root}/l2`);
    const bundle = writeBundle(root, {
      resources: [
        { kind: "symlink", path: `${root}/l1`, target: "right" },
        { kind: "symlink", path: `${root}/l2`, target: `${root}/dir` },
      ],
    });
    const check = bundle.run(shell, ["--check"]);
    expect(check.status).toBe(2);
    expect(statusLines(check.stdout)).toEqual([`would change  symlink ${root}/l1 (target)`, `would change  symlink ${root}/l2 (target)`]);
    expect(readlinkSync(`${root}/l1`)).toBe("wrong");
    const run = bundle.run(shell);
    expect(run.status).toBe(0);
    expect(readlinkSync(`${root}/l1`)).toBe("right");
    expect(readlinkSync(`${root}/l2`)).toBe(`${root}/dir`);
    expect(readdirSync(`${root}/other`)).toEqual([]);
    expect(readdirSync(`${root}/dir`)).toEqual([]);
    expect(leftoverTemps(root)).toEqual([]);

    writeFileSync(`${root}/file`, "user data\n");
    const refuse = writeBundle(root, {
      resources: [
        { kind: "symlink", path: `${root}/file`, target: "x" },
        { kind: "symlink", path: `${root}/dir`, target: "x" },
      ],
    });
    const failed = refuse.run(shell);
    expect(failed.status).toBe(1);
    expect(failed.stdout).toContain(`failed        symlink ${root}/file: ${root}/file exists and is a regular file`);
    expect(failed.stderr).toContain(`depc: test/host1: symlink ${root}/file: ${root}/file exists and is a regular file`);
    expect(readFileSync(`${root}/file`, "utf8")).toBe("user data\n");
    const checkDir = writeBundle(root, { resources: [{ kind: "symlink", path: `${root}/dir`, target: "x" }] }).run(shell);
    expect(checkDir.status).toBe(1);
    expect(checkDir.stdout).toContain(`${root}/dir exists and is a directory`);
  });

  it("clears a directory's set-id bits and reports mode 2755 -> 0755, then converges", () => {
    const root = hostRoot(shell.name);
    mkdirSync(`${root}/sg`);
    chmodSync(`${root}/sg`, 0o2755);
    mkdirSync(`${root}/parent`);
    chmodSync(`${root}/parent`, 0o2775);
    const bundle = writeBundle(root, {
      resources: [
        { kind: "directory", path: `${root}/sg`, mode: "0755" },
        { kind: "directory", path: `${root}/parent/child`, mode: "0750" },
        { kind: "directory", path: `${root}/keep`, mode: "2770" },
      ],
    });
    const first = bundle.run(shell);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(statusLines(first.stdout)).toEqual([
      `changed       directory ${root}/sg (mode 2755 -> 0755)`,
      `changed       directory ${root}/parent/child (created)`,
      `changed       directory ${root}/keep (created)`,
    ]);
    expect(mode(`${root}/sg`)).toBe(0o755);
    expect(mode(`${root}/parent/child`)).toBe(0o750);
    expect(mode(`${root}/keep`)).toBe(0o2770);
    const second = bundle.run(shell);
    expect(second.stdout).toMatch(/0 changed, 3 ok, 0 failed\n$/);
  });

  it("fixes mode and ownership in place without rewriting content", () => {
    const root = hostRoot(shell.name);
    const path = `${root}/f`;
    const owner = isRoot ? "nobody" : "";
    const group = isRoot ? "65534" : "";
    const bundle = writeBundle(root, { resources: [{ kind: "file", path, content: "same\n", mode: "0640", owner, group }] });
    writeFileSync(path, "same\n", { mode: 0o666 });
    chmodSync(path, 0o4755);
    const ino = statSync(path).ino;
    const run = bundle.run(shell);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const expected = isRoot ? "mode 4755 -> 0640, owner root -> nobody, group root -> 65534" : "mode 4755 -> 0640";
    expect(statusLines(run.stdout)).toEqual([`changed       file ${path} (${expected})`]);
    const st = statSync(path);
    expect(st.ino).toBe(ino);
    expect(st.mode & 0o7777).toBe(0o640);
    if (isRoot) {
      expect(st.uid).toBe(65534);
      expect(st.gid).toBe(65534);
    }
    expect(bundle.run(shell).stdout).toMatch(/0 changed, 1 ok, 0 failed\n$/);
  });

  it.runIf(isRoot)("sets owner and group on new files before they appear", () => {
    const root = hostRoot(shell.name);
    const bundle = writeBundle(root, {
      resources: [
        { kind: "directory", path: `${root}/d`, owner: "nobody", group: "nogroup", mode: "0755" },
        { kind: "file", path: `${root}/d/f`, content: "x\n", owner: "65534", group: "nogroup", mode: "0600" },
      ],
    });
    const run = bundle.run(shell);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    for (const p of [`${root}/d`, `${root}/d/f`]) {
      expect(statSync(p).uid).toBe(65534);
      expect(statSync(p).gid).toBe(65534);
    }
    expect(bundle.run(shell).stdout).toMatch(/0 changed, 2 ok, 0 failed\n$/);
  });

  it("fails on a missing parent directory: exit 1, the reason, later resources not run, no temp files", () => {
    const root = hostRoot(shell.name);
    const bundle = writeBundle(root, {
      env: "prod",
      host: "web1",
      resources: [
        { kind: "file", path: `${root}/ok.txt`, content: "ok\n" },
        { kind: "file", path: `${root}/missing/f.txt`, content: "x\n" },
        { kind: "file", path: `${root}/never.txt`, content: "x\n" },
      ],
    });
    const check = bundle.run(shell, ["--check"]);
    expect(check.status).toBe(2);
    expect(statusLines(check.stdout)).toContain(`would change  file ${root}/missing/f.txt (created)`);
    const run = bundle.run(shell);
    expect(run.status).toBe(1);
    expect(statusLines(run.stdout)).toEqual([
      `changed       file ${root}/ok.txt (created)`,
      `failed        file ${root}/missing/f.txt: parent directory ${root}/missing does not exist`,
    ]);
    expect(run.stdout).toMatch(/depc: prod\/web1: 3 resources: 1 changed, 0 ok, 1 failed, 1 not run\n$/);
    expect(run.stderr).toBe(`depc: prod/web1: file ${root}/missing/f.txt: parent directory ${root}/missing does not exist\n`);
    expect(() => lstatSync(`${root}/never.txt`)).toThrow();
    expect(leftoverTemps(root)).toEqual([]);
    expect(readdirSync(bundle.tmp)).toEqual([]);
  });

  it("fails when a file's path is a directory or a symlink, and when a directory's path is a file", () => {
    const root = hostRoot(shell.name);
    mkdirSync(`${root}/isdir`);
    symlinkSync("/etc/passwd", `${root}/islink`);
    writeFileSync(`${root}/isfile`, "");
    const cases: Array<[Resource, string]> = [
      [{ kind: "file", path: `${root}/isdir`, content: "x" }, `failed        file ${root}/isdir: ${root}/isdir exists and is a directory`],
      [{ kind: "file", path: `${root}/islink`, content: "x" }, `failed        file ${root}/islink: ${root}/islink exists and is a symbolic link`],
      [{ kind: "directory", path: `${root}/isfile` }, `failed        directory ${root}/isfile: ${root}/isfile exists and is not a directory`],
      [{ kind: "directory", path: `${root}/islink` }, `failed        directory ${root}/islink: ${root}/islink exists and is a symbolic link`],
    ];
    cases.forEach(([resource, line], i) => {
      for (const args of [[], ["--check"]]) {
        const run = writeBundle(root, { resources: [resource] }, `b${i}.sh`).run(shell, args);
        expect(run.status).toBe(1);
        expect(statusLines(run.stdout)).toEqual([line]);
      }
    });
    expect(leftoverTemps(root)).toEqual([]);
  });

  it("includes the failing command's stderr in the message", () => {
    const root = hostRoot(shell.name);
    const bundle = writeBundle(root, {
      resources: [{ kind: "file", path: `${root}/f`, content: "x\n", owner: "no-such-user-depc" }],
    });
    const run = bundle.run(shell);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/failed {8}file \S+\/f: cannot change owner of \S+\/\.depc\.[\w.]+ to no-such-user-depc:\n {4}.*no-such-user-depc.*\n/);
    expect(leftoverTemps(root)).toEqual([]);
    expect(() => lstatSync(`${root}/f`)).toThrow();
  });

  it("a failing command's output: as lines below the failed line, once; stderr and the report get the telling line", () => {
    const root = hostRoot(shell.name);
    const script = "echo starting; echo error: no database >&2; echo bye; exit 3";
    const text = compileValue(environment({ hosts: { h: [Command({ name: "boom", command: ["sh", "-c", script], always: true })] } })).bundles!.get("h")!;
    const path = `${root}-command.sh`;
    writeFileSync(path, text, { mode: 0o700 });
    const report = join(root, "report.jsonl");
    const run = runScript(shell, path, ["--report", report], { env: { DEPC_STATE_DIR: stateDir() } });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(
      `failed        command boom: sh -c "${script}" exited with status 3:\n    starting\n    error: no database\n    bye\n` +
        "depc: test/h: 1 resources: 0 changed, 0 ok, 1 failed\n",
    );
    expect(run.stderr).toBe(`depc: test/h: command boom: sh -c "${script}" exited with status 3: error: no database\n`);
    const failed = readFileSync(report, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l)).find((r) => r.status === "failed");
    expect(failed.error).toBe(`sh -c "${script}" exited with status 3: error: no database`);
  });

  it("writes a JSON-lines --report", () => {
    const root = hostRoot(shell.name);
    writeFileSync(`${root}/b"q\\x`, "old\n", { mode: 0o600 });
    const bundle = writeBundle(root, {
      env: "prod",
      host: "web1",
      resources: [
        { kind: "file", path: `${root}/b"q\\x`, content: "new\n" },
        { kind: "directory", path: `${root}/d` },
        { kind: "file", path: `${root}/nope/x`, content: "x\n" },
      ],
    });
    const report = join(root, "..", `${root.split("/").pop()}-report.jsonl`);
    const run = bundle.run(shell, ["--report", report]);
    expect(run.status).toBe(1);
    const lines = readFileSync(report, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { index: 1, kind: "file", key: `${root}/b"q\\x`, status: "changed", changes: ["content", "mode"] },
      { index: 2, kind: "directory", key: `${root}/d`, status: "changed", changes: ["created"] },
      {
        index: 3,
        kind: "file",
        key: `${root}/nope/x`,
        status: "failed",
        changes: ["created"],
        error: `parent directory ${root}/nope does not exist`,
      },
      {
        summary: {
          host: "web1",
          env: "prod",
          mode: "apply",
          version: "0.1.0",
          resources: 3,
          ok: 0,
          changed: 2,
          would_change: 0,
          failed: 1,
          not_run: 0,
          removed: 0,
          would_remove: 0,
          not_removed: 0,
          removal_failed: 0,
          exit: 1,
        },
      },
    ]);
    const check = bundle.run(shell, ["--check", `--report=${report}`]);
    expect(check.status).toBe(2);
    const checked = readFileSync(report, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(checked.map((l) => l.status ?? l.summary.mode)).toEqual(["ok", "ok", "would change", "check"]);
  });

  it("rejects unknown options with exit 64 and prints --help", () => {
    const root = hostRoot(shell.name);
    const bundle = writeBundle(root, { env: "prod", host: "web1", resources: [{ kind: "directory", path: `${root}/x` }] });
    const bad = bundle.run(shell, ["--chekc"]);
    expect(bad.status).toBe(64);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/^depc: prod\/web1: unknown option '--chekc'\nusage: /);
    expect(bundle.run(shell, ["--report"]).status).toBe(64);
    const help = bundle.run(shell, ["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--check");
    expect(help.stdout).toContain("64  usage error");
    expect(() => lstatSync(`${root}/x`)).toThrow();
  });

  it("always runs resources that are not in the expect table; opaque ones invalidate the facts", () => {
    const root = hostRoot(shell.name);
    const bundle = writeBundle(root, {
      resources: [
        { kind: "custom", key: "count", body: `  printf 'x\\n' >>'${root}/count'\n  depc_change ran ran\n  depc_invalidate_facts` },
        { kind: "file", path: `${root}/f`, content: "x\n" },
      ],
    });
    expect(bundle.run(shell).status).toBe(0);
    const second = bundle.run(shell);
    expect(statusLines(second.stdout)).toEqual([`changed       custom count (ran)`, `ok            file ${root}/f`]);
    expect(readFileSync(`${root}/count`, "utf8")).toBe("x\nx\n");
  });

  it("verifies converged resources from the batched facts alone (no command per resource)", () => {
    const root = hostRoot(shell.name);
    const owner = isRoot ? "nobody" : "";
    const group = isRoot ? "nogroup" : "";
    const resources: Resource[] = [
      { kind: "directory", path: `${root}/d`, mode: "0750", owner, group },
      { kind: "file", path: `${root}/d/a b`, content: "x\n", mode: "0640", owner, group },
      { kind: "file", path: `${root}/d/back\\slash`, content: ALL_BYTES },
    ];
    const converge = writeBundle(root, { resources }, "converge.sh");
    expect(converge.run(shell).status).toBe(0);
    // The first resource shadows every tool a full check would run; the facts
    // were collected before it ran, so verified resources must not notice.
    const trap = ["stat", "sha256sum", "readlink", "mktemp", "chmod", "chown", "chgrp", "mv", "cat", "awk"]
      .map((t) => `  ${t}() { printf 'UNEXPECTED ${t}\\n' >&2; return 1; }`)
      .join("\n");
    // The same state directory: a new one would (rightly) warn that files are in place without a ledger.
    const bundle = writeBundle(root, { resources: [{ kind: "custom", key: "shadow", body: trap }, ...resources] }, "shadow.sh", { state: converge.state });
    const run = bundle.run(shell);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/0 changed, 4 ok, 0 failed\n$/);
  });
});

describe("tool probing", () => {
  it("names a missing tool and the host, exit 1, nothing changed", () => {
    const root = hostRoot("probe");
    const bin = join(root, "..", `${root.split("/").pop()}-bin`);
    mkdirSync(bin);
    const busybox = "/usr/bin/busybox";
    for (const tool of ["cat", "mv", "rm", "mkdir", "chmod", "chown", "chgrp", "ln", "readlink", "mktemp", "stat", "awk", "sed", "tr", "sha256sum"]) {
      symlinkSync(busybox, join(bin, tool));
    }
    const bundle = writeBundle(root, { env: "prod", host: "web1", resources: [{ kind: "directory", path: `${root}/x` }] });
    const dash = availableShells().find((s) => s.name === "dash");
    if (dash === undefined) return;
    const run = spawnSync("/usr/bin/dash", [bundle.path], { env: { PATH: bin }, encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`depc: prod/web1: required tool 'diff' not found on host web1 (PATH=${bin})\n`);
    expect(() => lstatSync(`${root}/x`)).toThrow();
  });
});
