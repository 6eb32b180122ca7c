// Storage: real age encryption (keys made in the test), interop with the age
// CLI both ways, identities, the plaintext format.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  SecretsError,
  decryptFile,
  encryptText,
  loadIdentities,
  parseSecrets,
  readSecrets,
  secretsPaths,
} from "../../compiler/secrets/store.js";
import { ageCli, hasAgeCli, makeCliKey, makeKey, tempDir } from "./support.js";

const DOC = JSON.stringify({ db: { password: "hunter2" }, "api.token": "tok-9f8e\nline two", unicode: "päss wörd ✓" }, null, 2);

describe("age encryption", () => {
  it("round-trips through depc's own encryption with keys made here", async () => {
    const dir = tempDir("roundtrip");
    const a = await makeKey(dir, "a");
    const b = await makeKey(dir, "b");
    const file = join(dir, "prod.age");
    const armored = await encryptText(DOC, [a.recipient, b.recipient]);
    expect(armored).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----\n/);
    expect(armored).not.toContain("hunter2");
    writeFileSync(file, armored);
    for (const key of [a, b]) {
      expect(await decryptFile(file, loadIdentities({ identityFile: key.file }))).toBe(DOC);
    }
    const values = parseSecrets(DOC, "x");
    expect(values.get("db.password")).toBe("hunter2");
    expect(values.get("api.token")).toBe("tok-9f8e\nline two");
    expect(values.get("unicode")).toBe("päss wörd ✓");
  });

  it("what depc encrypts, `age -d -i` decrypts", async () => {
    if (!hasAgeCli()) return;
    const dir = tempDir("to-cli");
    const key = makeCliKey(dir);
    const file = join(dir, "prod.age");
    writeFileSync(file, await encryptText(DOC, [key.recipient]));
    const out = ageCli(["-d", "-i", key.file, file]);
    expect(out.stderr).toBe("");
    expect(out.status).toBe(0);
    expect(out.stdout).toBe(DOC);
  });

  it("what `age -r` encrypts (armored and binary), depc decrypts; recipients files work with `age -R`", async () => {
    if (!hasAgeCli()) return;
    const dir = tempDir("from-cli");
    const key = await makeKey(dir);
    const paths = secretsPaths(dir, "prod");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(dir, "secrets"));
    for (const armor of [["-a"], []]) {
      const enc = ageCli([...armor, "-r", key.recipient], DOC);
      expect(enc.status).toBe(0);
      writeFileSync(paths.file, enc.bytes);
      const values = await readSecrets(paths, loadIdentities({ identityFile: key.file }));
      expect(values.get("db.password")).toBe("hunter2");
    }
    writeFileSync(paths.recipients, `# comment\n${key.recipient}\n`);
    const enc = ageCli(["-a", "-R", paths.recipients], DOC);
    expect(enc.status).toBe(0);
    writeFileSync(paths.file, enc.stdout);
    expect(await decryptFile(paths.file, loadIdentities({ identityFile: key.file }))).toBe(DOC);
  });

  it("a wrong identity is a clear error naming the key, not a stack trace", async () => {
    const dir = tempDir("wrong");
    const right = await makeKey(dir, "right");
    const wrong = await makeKey(dir, "wrong");
    const file = join(dir, "prod.age");
    writeFileSync(file, await encryptText(DOC, [right.recipient]));
    const error = await decryptFile(file, loadIdentities({ identityFile: wrong.file })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretsError);
    expect((error as Error).message).toBe(
      `cannot decrypt ${file}: the identity from ${wrong.file} (${wrong.recipient}) is not one of its recipients. ` +
        `Ask someone who can decrypt it to run: depc secrets recipients add <env> ${wrong.recipient}`,
    );
    expect((error as Error).message).not.toContain(wrong.identity);
  });
});

describe("identities", () => {
  it("come from --identity, DEPC_AGE_KEY, DEPC_AGE_IDENTITY, then ~/.config/depc/age.key", async () => {
    const dir = tempDir("ids");
    const a = await makeKey(dir, "a");
    const b = await makeKey(dir, "b");
    const home = tempDir("home");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(home, ".config", "depc"), { recursive: true });
    writeFileSync(join(home, ".config", "depc", "age.key"), readFileSync(b.file));
    expect(loadIdentities({ identityFile: a.file, env: { DEPC_AGE_KEY: b.identity } }).keys).toEqual([a.identity]);
    expect(loadIdentities({ env: { DEPC_AGE_KEY: b.identity, DEPC_AGE_IDENTITY: a.file } })).toEqual({ keys: [b.identity], source: "DEPC_AGE_KEY" });
    expect(loadIdentities({ env: { DEPC_AGE_IDENTITY: a.file, HOME: home } }).keys).toEqual([a.identity]);
    expect(loadIdentities({ env: { HOME: home } }).keys).toEqual([b.identity]);
    const none = tempDir("nohome");
    expect(() => loadIdentities({ env: { HOME: none } })).toThrow(
      `no age identity: ${none}/.config/depc/age.key does not exist. Give --identity FILE, set DEPC_AGE_IDENTITY to a key file or DEPC_AGE_KEY to the key, or create one with: mkdir -p ~/.config/depc && age-keygen -o ~/.config/depc/age.key`,
    );
  });

  it("a bad key file is named without echoing its content", async () => {
    const dir = tempDir("badid");
    const file = join(dir, "k");
    writeFileSync(file, "# comment\nAGE-SECRET-KEY-1notreallyakeyXYZ lowercase\n");
    expect(() => loadIdentities({ identityFile: file })).toThrow(`${file}: line 2 is not an age identity (AGE-SECRET-KEY-1...).`);
    writeFileSync(file, "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n");
    expect(() => loadIdentities({ identityFile: file })).toThrow(/holds an ssh key; depc decrypts with age identities/);
    expect(() => loadIdentities({ identityFile: join(dir, "missing") })).toThrow(`cannot read the age identity file ${join(dir, "missing")} (--identity): ENOENT`);
  });
});

describe("the plaintext format", () => {
  it("is a JSON object of strings, nested objects joined with dots; problems name keys, never values", () => {
    expect([...parseSecrets('{"a": {"b": {"c": "x"}}, "d": "y"}', "f").entries()]).toEqual([["a.b.c", "x"], ["d", "y"]]);
    expect(() => parseSecrets('{"a": "x", "a.b": 1}', "f")).toThrow('f: the value of "a.b" must be a string (or an object of strings).');
    expect(() => parseSecrets('{"a.b": "x", "a": {"b": "y"}}', "f")).toThrow('f: key "a.b" is given twice.');
    expect(() => parseSecrets('{"bad key": "x"}', "f")).toThrow('f: key "bad key" is not usable');
    expect(() => parseSecrets('["x"]', "f")).toThrow("f must hold a JSON object of secrets");
    const bad = '{\n  "pw": "hunter2",\n  oops\n}';
    let message = "";
    try {
      parseSecrets(bad, "f");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^f is not valid JSON at line 3 column \d+\. The secrets are a JSON object/);
    expect(message).not.toContain("hunter2");
  });
});
