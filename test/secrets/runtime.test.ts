// On the host: secret files converge with their owner and mode (set before
// any content is written), and --check, the report, stderr and the state
// directory never show a secret value, before or after a change of it.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { availableShells, requireTool, runScript, type Shell } from "../support/shells.js";
import { compileProject, makeKey, secretProject, tempDir } from "./support.js";

const isRoot = process.getuid?.() === 0;
const OLD = { db: { password: "pw-OLD-1234" }, "api.token": "tok-OLD-5678" };
const NEW = { db: { password: "pw-NEW-abcd" }, "api.token": "tok-NEW-efgh" };

function files(root: string) {
  const owned = isRoot ? `owner: "nobody", group: "nogroup", ` : "";
  return {
    "env/prod.ts": `import { environment, File, secret, secretText } from "depc";
export default environment({
  hosts: {
    app1: [
      File({ path: "${root}/app.ini", content: secretText\`[db]\\npassword = \${secret("db.password")}\\n\` }),
      File({ path: "${root}/token", ${owned}mode: 0o640, content: secret("api.token") }),
      File({ path: "${root}/plain.txt", content: "plain\\n" }),
    ],
  },
});
`,
  };
}

/** Every form a value could leak in: itself, and the sha256 of the files that hold it. */
function leaks(text: string, values: Record<string, unknown>): string[] {
  const flat = [(values.db as { password: string }).password, values["api.token"] as string];
  const contents = [`[db]\npassword = ${flat[0]}\n`, flat[1]!];
  const digests = contents.map((c) => createHash("sha256").update(c).digest("hex"));
  return [...flat, ...digests, ...digests.map((d) => d.slice(0, 12))].filter((v) => text.includes(v));
}

/** stderr without the state directory's notes about keeping bundle copies (another feature's concern). */
const errors = (stderr: string) =>
  stderr
    .split("\n")
    .filter((l) => l !== "" && !l.includes("warning: not keeping a copy"))
    .join("\n");

function statOf(path: string) {
  const s = statSync(path);
  return { mode: (s.mode & 0o7777).toString(8).padStart(4, "0"), uid: s.uid, gid: s.gid };
}

describe.each(availableShells().map((s) => [s.name, s] as [string, Shell]))("secret files on the host under %s", (_name, shell) => {
  it("apply sets owner and mode; --check after a change shows fingerprints, and no output holds a value", async () => {
    const dir = tempDir("host");
    const root = join(dir, "root");
    mkdirSync(root);
    const state = join(dir, "state");
    const key = await makeKey(dir);
    const project = await secretProject(files(root), OLD, [key.recipient]);
    const bundle = join(dir, "app1.sh");
    const build = async () => {
      const result = await compileProject(project.dir, key.file);
      expect(result.printed).toBe("");
      writeFileSync(bundle, result.bundles!.get("app1")!, { mode: 0o600 });
    };
    const run = (args: string[]) => runScript(shell, bundle, args, { env: { DEPC_STATE_DIR: state, TMPDIR: dir } });
    await build();
    if (requireTool("shellcheck")) {
      const checked = spawnSync("shellcheck", ["-s", "sh", bundle], { encoding: "utf8" });
      expect(checked.stdout + checked.stderr).toBe("");
    }

    const applied = run(["--report", join(dir, "apply.json")]);
    expect(errors(applied.stderr)).toBe("");
    expect(applied.status).toBe(0);
    expect(statOf(join(root, "app.ini")).mode).toBe("0600");
    expect(statOf(join(root, "token")).mode).toBe("0640");
    if (isRoot) expect(statOf(join(root, "token"))).toMatchObject({ uid: 65534, gid: 65534 });
    expect(statOf(join(root, "plain.txt")).mode).toBe("0644");
    expect(readFileSync(join(root, "token"), "utf8")).toBe("tok-OLD-5678");
    expect(run(["--check"]).status).toBe(0);

    await project.writeSecrets(NEW);
    await build();
    const report = join(dir, "check.json");
    const checked = run(["--check", "--report", report]);
    expect(checked.status).toBe(2);
    const lines = checked.stdout.split("\n");
    expect(lines[0]).toBe(`would change  file ${root}/app.ini (content)`);
    expect(lines[1]).toMatch(/^Secret content changed \(fingerprint [0-9a-f]{12} -> [0-9a-f]{12}\)$/);
    expect(lines[2]).toBe(`would change  file ${root}/token (content)`);
    expect(lines[3]).toMatch(/^Secret content changed \(fingerprint [0-9a-f]{12} -> [0-9a-f]{12}\)$/);
    expect(lines[4]).toBe(`ok            file ${root}/plain.txt`);
    const outputs = [checked.stdout, checked.stderr, readFileSync(report, "utf8")].join("\n");
    expect(leaks(outputs, OLD)).toEqual([]);
    expect(leaks(outputs, NEW)).toEqual([]);

    const reapplied = run(["--report", join(dir, "apply2.json")]);
    expect(reapplied.status).toBe(0);
    expect(readFileSync(join(root, "token"), "utf8")).toBe("tok-NEW-efgh");
    expect(statOf(join(root, "token")).mode).toBe("0640");
    const all = [reapplied.stdout, reapplied.stderr, readFileSync(join(dir, "apply2.json"), "utf8"), applied.stdout].join("\n");
    expect(leaks(all, OLD)).toEqual([]);
    expect(leaks(all, NEW)).toEqual([]);
    // The state directory is private; its logs (all but the kept bundles themselves) hold no value.
    expect(statOf(state).mode).toBe("0700");
    for (const entry of readdirSync(state, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || entry.name.endsWith(".sh")) continue;
      const text = readFileSync(join(entry.parentPath, entry.name), "utf8");
      expect([entry.name, leaks(text, OLD), leaks(text, NEW)]).toEqual([entry.name, [], []]);
    }
  });
});

describe("the order of writes", () => {
  it("a secret file's temp file gets owner and mode while still empty; a plain file's after its content", async () => {
    const dir = tempDir("order");
    const root = join(dir, "root");
    mkdirSync(root);
    const key = await makeKey(dir);
    const project = await secretProject(files(root), OLD, [key.recipient]);
    const result = await compileProject(project.dir, key.file);
    const bundle = join(dir, "app1.sh");
    writeFileSync(bundle, result.bundles!.get("app1")!, { mode: 0o600 });
    // chmod and chown that log the size of the file they change, then run the real tool.
    const shims = join(dir, "shims");
    mkdirSync(shims);
    const log = join(dir, "attrs.log");
    for (const tool of ["chmod", "chown", "chgrp"]) {
      const real = ["/bin", "/usr/bin"].map((d) => join(d, tool)).find(existsSync)!;
      writeFileSync(
        join(shims, tool),
        `#!/bin/sh\nfor f; do :; done\nprintf '%s %s %s\\n' ${tool} "\${f##*/}" "$(wc -c <"$f" | tr -d ' ')" >>'${log}'\nexec ${real} "$@"\n`,
      );
      chmodSync(join(shims, tool), 0o755);
    }
    const dash = availableShells().find((s) => s.name === "dash") ?? availableShells()[0]!;
    const applied = runScript(dash, bundle, [], { env: { PATH: `${shims}:${process.env.PATH}`, DEPC_STATE_DIR: join(dir, "state"), TMPDIR: dir } });
    expect(errors(applied.stderr)).toBe("");
    expect(applied.status).toBe(0);
    const entries = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .filter((l) => l.includes(" .depc."))
      .map((l) => l.replace(/\.depc\.\S+/, "TMP"));
    expect(entries).toEqual([
      "chmod TMP 0", // app.ini: mode on the empty temp file
      ...(isRoot ? ["chown TMP 0"] : []), // token: owner first, on the empty temp file
      "chmod TMP 0",
      "chmod TMP 6", // plain.txt: after its 6 bytes, as before
    ]);
  });
});

describe("commands with secrets", () => {
  it("get the real values; reports, --check and failure output show *** instead", async () => {
    const dir = tempDir("command");
    const out = join(dir, "seen");
    const key = await makeKey(dir);
    const project = await secretProject(
      {
        "env/prod.ts": `import { environment, Command, secret } from "depc";
export default environment({
  hosts: {
    app1: [
      Command({
        name: "use-secrets",
        command: ["sh", "-c", 'printf "%s|%s" "$1" "$TOKEN" >"$2"; echo "failing with $1 and $TOKEN" >&2; exit 3', "sh", secret("db.password"), "${out}"],
        env: { TOKEN: secret("api.token") },
        always: true,
      }),
    ],
  },
});
`,
      },
      OLD,
      [key.recipient],
    );
    const result = await compileProject(project.dir, key.file);
    expect(result.printed).toBe("");
    const bundle = join(dir, "app1.sh");
    writeFileSync(bundle, result.bundles!.get("app1")!, { mode: 0o600 });
    if (requireTool("shellcheck")) {
      const checked = spawnSync("shellcheck", ["-s", "sh", bundle], { encoding: "utf8" });
      expect(checked.stdout + checked.stderr).toBe("");
    }
    for (const shell of availableShells()) {
      const run = (args: string[]) => runScript(shell, bundle, args, { env: { DEPC_STATE_DIR: join(dir, "state"), TMPDIR: dir } });
      const checked = run(["--check", "--report", join(dir, "check.json")]);
      expect(checked.stdout.split("\n")[0]).toBe(`would change  command use-secrets (runs sh -c "printf \\"%s|%s\\" \\"$1\\" \\"$TOKEN\\" >\\"$2\\"; echo \\"failing with $1 and $TOKEN\\" >&2; exit 3" sh *** ${out})`);
      const applied = run(["--report", join(dir, "apply.json")]);
      expect(applied.status).toBe(1);
      expect(readFileSync(out, "utf8")).toBe("pw-OLD-1234|tok-OLD-5678");
      expect(applied.stdout).toContain("exited with status 3:\n    failing with *** and ***\n");
      expect(applied.stderr).toContain("exited with status 3: failing with *** and ***\n");
      const outputs = [checked.stdout, checked.stderr, applied.stdout, applied.stderr, readFileSync(join(dir, "check.json"), "utf8"), readFileSync(join(dir, "apply.json"), "utf8")].join("\n");
      expect([shell.name, leaks(outputs, OLD)]).toEqual([shell.name, []]);
    }
  });
});
