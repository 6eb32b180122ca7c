// Finding a host's ssh key as ssh itself would (the real ssh -G and
// ssh-keygen -F over a real ssh config and known_hosts), and age's recipient
// tag read back from a file the real age CLI encrypted.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ToolError, ageRecipients, ageTag, findHostKey } from "../../tools/publish/hostkeys.js";
import { requireTool } from "../support/shells.js";

const missing = ["age", "ssh", "ssh-keygen"].filter((t) => !requireTool(t));
if (missing.length > 0 && process.env.CI === "true") throw new Error(`hostkeys tests need ${missing.join(", ")}`);

const dir = mkdtempSync(join(tmpdir(), "depc-hostkeys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function key(name: string, type: string) {
  const file = join(dir, name);
  expect(spawnSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-f", file]).status).toBe(0);
  const [t, b] = readFileSync(`${file}.pub`, "utf8").split(" ");
  return { file, type: t!, base64: b!, line: `${t} ${b}` };
}

describe("findHostKey", () => {
  const ed = key("ed", "ed25519");
  const rsa = key("rsa", "rsa");
  const aliasKey = key("alias", "ed25519");
  const kh = join(dir, "known_hosts");
  writeFileSync(kh, [`10.1.2.3 ${rsa.line}`, `10.1.2.3 ${ed.line}`, `rsaonly.test ${rsa.line}`, `web9-key ${aliasKey.line}`, `[10.1.2.4]:2200 ${ed.line}`, ""].join("\n"));
  const config = join(dir, "ssh_config");
  writeFileSync(config, ["Host web9", "  HostName 10.9.9.9", "  Port 2200", "  HostKeyAlias web9-key", "Host db2", "  HostName 10.1.2.4", "  Port 2200", "Host *", `  UserKnownHostsFile ${kh}`, "  GlobalKnownHostsFile /dev/null", ""].join("\n"));
  const lookup = { configFile: config, options: [], env: process.env };

  it("prefers ed25519 to RSA, takes RSA when it is all there is, and knows when there is none", () => {
    expect(findHostKey({ address: "10.1.2.3" }, lookup)).toEqual({ type: "ssh-ed25519", base64: ed.base64 });
    expect(findHostKey({ address: "rsaonly.test" }, lookup)).toEqual({ type: "ssh-rsa", base64: rsa.base64 });
    expect(findHostKey({ address: "unknown.test" }, lookup)).toBeUndefined();
  });

  it("follows the ssh config: HostName and Port ([host]:port), HostKeyAlias (as it is, without the port)", () => {
    expect(findHostKey({ address: "db2" }, lookup)).toEqual({ type: "ssh-ed25519", base64: ed.base64 });
    expect(findHostKey({ address: "web9" }, lookup)).toEqual({ type: "ssh-ed25519", base64: aliasKey.base64 });
    // The model's port wins over nothing else: 10.1.2.4 on 22 is another key entry (none).
    expect(findHostKey({ address: "10.1.2.4" }, lookup)).toBeUndefined();
    expect(findHostKey({ address: "10.1.2.4", port: 2200 }, lookup)).toEqual({ type: "ssh-ed25519", base64: ed.base64 });
  });

  it("a broken ssh config is one line", () => {
    const bad = join(dir, "bad_config");
    writeFileSync(bad, "NoSuchOption yes\n");
    expect(() => findHostKey({ address: "x" }, { ...lookup, configFile: bad })).toThrow(ToolError);
    expect(() => findHostKey({ address: "x" }, { ...lookup, configFile: bad })).toThrow(`ssh -G x failed: ${bad}: line 1: Bad configuration option: nosuchoption`);
  });
});

describe("age recipient tags", () => {
  it("the tag computed from the key is the one the age CLI writes in its header", () => {
    for (const type of ["ed25519", "rsa"]) {
      const k = key(`tag-${type}`, type);
      const recipients = join(dir, `recipients-${type}`);
      writeFileSync(recipients, `${k.line}\n`);
      const sealed = spawnSync("age", ["-R", recipients], { input: "hello\n" });
      expect(sealed.status).toBe(0);
      expect(ageRecipients(sealed.stdout)).toEqual([`${k.type} ${ageTag(k)}`]);
    }
    expect(ageRecipients(new TextEncoder().encode("#!/bin/sh\n"))).toEqual([]);
  });
});
