// `depc secrets ...` through the real CLI entry point, with a scripted $EDITOR,
// keys made by age-keygen, and the age CLI checking what depc wrote.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, chmodSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ageCli, depc, hasAgeCli, makeCliKey, makeKey, tempDir } from "./support.js";
import { makeProject } from "../support/project.js";

let saved: NodeJS.ProcessEnv;
beforeEach(() => {
  saved = { ...process.env };
  delete process.env.DEPC_AGE_KEY;
  delete process.env.DEPC_AGE_IDENTITY;
  delete process.env.VISUAL;
});
afterEach(() => {
  process.env = saved;
});

/** An $EDITOR: a sh script run with the file's path; it logs the file's and its directory's modes. */
function editor(dir: string, body: string): string {
  const path = join(dir, `editor-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(path, `#!/bin/sh\nstat -c '%a' "$1" "\${1%/*}" | tr '\\n' ' ' >>'${dir}/editor.log'\necho >>'${dir}/editor.log'\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

async function setup() {
  const dir = tempDir("cli");
  const project = makeProject({});
  const home = join(dir, "home");
  mkdirSync(join(home, ".config", "depc"), { recursive: true });
  const key = await makeKey(dir, "me");
  copyFileSync(key.file, join(home, ".config", "depc", "age.key"));
  process.env.HOME = home;
  process.env.TMPDIR = join(dir, "tmp");
  mkdirSync(process.env.TMPDIR);
  return { dir, cwd: project.dir, key, cleanup: project.cleanup };
}

describe("depc secrets edit", () => {
  it("creates the file with the editor's key as recipient, in a private temp file the age CLI can then read", async () => {
    const { dir, cwd, key, cleanup } = await setup();
    try {
      process.env.EDITOR = editor(dir, `cat >"$1" <<'EOF'\n{ "db": { "password": "s3cret-ONE" }, "api.token": "tok" }\nEOF`);
      const r = await depc(cwd, ["secrets", "edit", "prod"]);
      expect(r.stderr).toBe(
        `depc: secrets: created secrets/prod.recipients with your public key ${key.recipient}\n` + "depc: secrets: wrote secrets/prod.age: 2 secrets for 1 recipient(s)\n",
      );
      expect(r.code).toBe(0);
      expect(readFileSync(join(dir, "editor.log"), "utf8")).toBe("600 700 \n");
      expect(readdirSync(process.env.TMPDIR!)).toEqual([]); // the plaintext is gone
      expect(readFileSync(join(cwd, "secrets", "prod.recipients"), "utf8")).toContain(`\n${key.recipient}\n`);
      expect(readFileSync(join(cwd, "secrets", "prod.age"), "utf8")).not.toContain("s3cret");
      if (hasAgeCli()) {
        const out = ageCli(["-d", "-i", key.file, join(cwd, "secrets", "prod.age")]);
        expect(out.stdout).toBe('{ "db": { "password": "s3cret-ONE" }, "api.token": "tok" }\n');
      }
      const shown = await depc(cwd, ["secrets", "show", "prod", "db.password"]);
      expect([shown.code, shown.stdout]).toEqual([0, "s3cret-ONE\n"]);

      // Edit again: the editor sees the current plaintext and changes one value.
      process.env.EDITOR = editor(dir, `sed -i 's/s3cret-ONE/s3cret-TWO/' "$1"`);
      expect((await depc(cwd, ["secrets", "edit", "env/prod"])).code).toBe(0);
      expect((await depc(cwd, ["secrets", "show", "prod", "db.password"])).stdout).toBe("s3cret-TWO\n");
      const missing = await depc(cwd, ["secrets", "show", "prod", "db.user"]);
      expect([missing.code, missing.stderr]).toEqual([1, 'depc: secrets: secrets/prod.age has no secret "db.user". Its keys: api.token, db.password\n']);

      // No change: nothing written.
      const before = readFileSync(join(cwd, "secrets", "prod.age"));
      process.env.EDITOR = editor(dir, ":");
      const same = await depc(cwd, ["secrets", "edit", "prod"]);
      expect([same.code, same.stderr]).toEqual([0, "depc: secrets: no changes; secrets/prod.age is as it was\n"]);
      expect(readFileSync(join(cwd, "secrets", "prod.age"))).toEqual(before);
    } finally {
      cleanup();
    }
  });

  it("keeps the user's edits (and says where) when they cannot be encrypted; --from picks them up", async () => {
    const { dir, cwd, cleanup } = await setup();
    try {
      process.env.EDITOR = editor(dir, `printf '{"pw": "first"}\\n' >"$1"`);
      expect((await depc(cwd, ["secrets", "edit", "prod"])).code).toBe(0);
      const before = readFileSync(join(cwd, "secrets", "prod.age"));
      process.env.EDITOR = editor(dir, `printf '{"pw": "kept-EDIT",\\n  oops }\\n' >"$1"`);
      const bad = await depc(cwd, ["secrets", "edit", "prod"]);
      expect(bad.code).toBe(1);
      const kept = /your edits are kept in (\S+) /.exec(bad.stderr)![1]!;
      expect(bad.stderr).toBe(
        `depc: secrets: secrets/prod.age was NOT changed: secrets/prod.age is not valid JSON at line 2 column 3. The secrets are a JSON object: {"db.password": "..."}.\n` +
          `depc: secrets: your edits are kept in ${kept} (private to you); fix them and run: depc secrets edit prod --from ${kept}\n` +
          `depc: secrets: then delete that directory: rm -r ${join(kept, "..")}\n`,
      );
      expect(bad.stderr).not.toContain("kept-EDIT");
      expect(readFileSync(kept, "utf8")).toBe('{"pw": "kept-EDIT",\n  oops }\n');
      expect((statSync(kept).mode & 0o777).toString(8)).toBe("600");
      expect(readFileSync(join(cwd, "secrets", "prod.age"))).toEqual(before);

      process.env.EDITOR = editor(dir, `sed -i 's/  oops }/ "more": "x" }/' "$1"`);
      const fixed = await depc(cwd, ["secrets", "edit", "prod", "--from", kept]);
      expect([fixed.code, fixed.stderr]).toEqual([0, "depc: secrets: wrote secrets/prod.age: 2 secrets for 1 recipient(s)\n"]);
      expect((await depc(cwd, ["secrets", "show", "prod", "pw"])).stdout).toBe("kept-EDIT\n");

      process.env.EDITOR = editor(dir, "exit 3");
      const failed = await depc(cwd, ["secrets", "edit", "prod"]);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/^depc: secrets: the editor \(.*\) failed \(exit 3\); nothing was changed\n$/);
    } finally {
      cleanup();
    }
  });
});

describe("depc secrets recipients and reencrypt", () => {
  it("add re-encrypts for the new key (the age CLI can read it), remove takes it away, list shows them", async () => {
    if (!hasAgeCli()) return;
    const { dir, cwd, key, cleanup } = await setup();
    try {
      process.env.EDITOR = editor(dir, `printf '{"pw": "for-both"}\\n' >"$1"`);
      expect((await depc(cwd, ["secrets", "edit", "prod"])).code).toBe(0);
      const colleague = makeCliKey(dir, "colleague");
      const file = join(cwd, "secrets", "prod.age");
      expect(ageCli(["-d", "-i", colleague.file, file]).status).not.toBe(0);

      const added = await depc(cwd, ["secrets", "recipients", "add", "prod", colleague.recipient]);
      expect([added.code, added.stderr]).toEqual([0, "depc: secrets: added 1 recipient(s); re-encrypted secrets/prod.age\n"]);
      expect(ageCli(["-d", "-i", colleague.file, file]).stdout).toBe('{"pw": "for-both"}\n');
      expect((await depc(cwd, ["secrets", "recipients", "list", "prod"])).stdout).toBe(`${key.recipient}\n${colleague.recipient}\n`);

      // The colleague's identity works through DEPC_AGE_KEY too.
      process.env.DEPC_AGE_KEY = colleague.identity;
      expect((await depc(cwd, ["secrets", "show", "prod", "pw"])).stdout).toBe("for-both\n");
      delete process.env.DEPC_AGE_KEY;

      const before = readFileSync(file, "utf8");
      const re = await depc(cwd, ["secrets", "reencrypt", "prod"]);
      expect([re.code, re.stderr]).toEqual([0, "depc: secrets: re-encrypted secrets/prod.age for 2 recipient(s)\n"]);
      expect(readFileSync(file, "utf8")).not.toBe(before);

      const removed = await depc(cwd, ["secrets", "recipients", "remove", "prod", colleague.recipient]);
      expect(removed.code).toBe(0);
      expect(removed.stderr).toContain("a removed key can still decrypt the old versions");
      expect(ageCli(["-d", "-i", colleague.file, file]).status).not.toBe(0);
      expect(ageCli(["-d", "-i", key.file, file]).stdout).toBe('{"pw": "for-both"}\n');

      const last = await depc(cwd, ["secrets", "recipients", "remove", "prod", key.recipient]);
      expect([last.code, last.stderr]).toEqual([1, "depc: secrets: that would leave secrets/prod.age without recipients; add another first\n"]);
      const ssh = await depc(cwd, ["secrets", "recipients", "add", "prod", "ssh-ed25519 AAAAC3Nza me@host"]);
      expect(ssh.code).toBe(1);
      expect(ssh.stderr).toMatch(/^depc: secrets: ssh public keys are not supported as recipients/);
    } finally {
      cleanup();
    }
  });

  it("a wrong identity is one clear line, and changes nothing", async () => {
    const { dir, cwd, cleanup } = await setup();
    try {
      process.env.EDITOR = editor(dir, `printf '{"pw": "x"}\\n' >"$1"`);
      expect((await depc(cwd, ["secrets", "edit", "prod"])).code).toBe(0);
      const stranger = await makeKey(dir, "stranger");
      const before = readFileSync(join(cwd, "secrets", "prod.age"));
      for (const argv of [
        ["secrets", "show", "prod", "--identity", stranger.file],
        ["secrets", "reencrypt", "prod", "--identity", stranger.file],
        ["secrets", "recipients", "add", "prod", stranger.recipient, "--identity", stranger.file],
      ]) {
        const r = await depc(cwd, argv);
        expect(r.code).toBe(1);
        expect(r.stderr).toBe(
          `depc: secrets: cannot decrypt ${join(cwd, "secrets", "prod.age")}: the identity from ${stranger.file} (${stranger.recipient}) is not one of its recipients. ` +
            `Ask someone who can decrypt it to run: depc secrets recipients add <env> ${stranger.recipient}\n`,
        );
      }
      expect(readFileSync(join(cwd, "secrets", "prod.age"))).toEqual(before);
      expect(readFileSync(join(cwd, "secrets", "prod.recipients"), "utf8")).not.toContain(stranger.recipient);
      const none = await depc(cwd, ["secrets", "show", "staging"]);
      expect([none.code, none.stderr]).toEqual([1, "depc: secrets: secrets/staging.age does not exist; create it with: depc secrets edit staging\n"]);
      expect(existsSync(join(cwd, "secrets", "staging.recipients"))).toBe(false);
    } finally {
      cleanup();
    }
  });
});
