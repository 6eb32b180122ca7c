// `depc publish --to s3://…` and `depc status --store s3://…` against s3rver,
// in this process (test/publish/s3-server.ts): s3rver STANDS IN FOR A REAL
// S3 (same REST API and error codes; it checks neither SigV4 signatures nor
// the sha256 each upload carries). Uploads are counted at the server: an
// unchanged publish sends no PUT at all.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, type Io } from "../../compiler/cli.js";
import { openStore } from "../../tools/publish/store.js";
import { makeProject } from "../support/project.js";
import { requireTool } from "../support/shells.js";
import { startS3Server, type S3Server } from "./s3-server.js";

if (!requireTool("ssh-keygen") && process.env.CI === "true") throw new Error("the publish tests need ssh-keygen (OpenSSH client)");

const T0 = 1_800_000_000;
const ENV = (greeting: string) => `import { environment, Directory, File } from "depc";
export default environment({
  hosts: {
    db1: [Directory({ path: "/srv/db" })],
    web1: [File({ path: "/srv/web/index.html", content: ${JSON.stringify(greeting)} })],
  },
});
`;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

let s3: S3Server;
let dir: string;
let cleanup: () => void;
beforeAll(async () => {
  s3 = await startS3Server(["depc"]);
  const project = makeProject({ "env/prod.ts": ENV("hello\n") });
  dir = project.dir;
  cleanup = project.cleanup;
  expect(spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "publisher", "-f", join(dir, "publisher")]).status).toBe(0);
});
afterAll(async () => {
  cleanup?.();
  await s3?.close();
});

/** The CLI in-process at epoch second `now`, with the server's credentials and no endpoint in the environment. */
async function depc(argv: readonly string[], now = T0) {
  let stdout = "";
  let stderr = "";
  const env = { ...s3.env };
  delete env.AWS_ENDPOINT_URL;
  const io: Io & { now?: number; env?: NodeJS.ProcessEnv } = { cwd: dir, stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), color: false, env, now };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

const publish = (now = T0) => depc(["publish", "env/prod", "--to", "s3://depc/prod", "--s3-endpoint", s3.endpoint, "--sign-key", "publisher", "--no-cache"], now);
const status = (now: number) => depc(["status", "prod", "--store", "s3://depc/prod", "--s3-endpoint", s3.endpoint], now);

describe("depc publish --to s3://", () => {
  it("uploads the bundles, the signed manifest and latest last; again unchanged: no PUT at all", async () => {
    const first = await publish();
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const db = sha256(readFileSync(join(dir, "build", "prod", "db1.sh")));
    const web = sha256(readFileSync(join(dir, "build", "prod", "web1.sh")));
    expect(first.stdout).toBe(`db1: new host, bundle ${db.slice(0, 12)}\nweb1: new host, bundle ${web.slice(0, 12)}\npublished serial 1 of prod: 2 bundles uploaded, 0 unchanged\n`);
    const puts = s3.puts().map((r) => r.url.replace(/\?.*$/, ""));
    expect([...puts].sort()).toEqual([`/depc/prod/bundles/${db}`, `/depc/prod/bundles/${web}`, "/depc/prod/latest", "/depc/prod/manifests/1", "/depc/prod/manifests/1.sig"].sort());
    expect(puts.at(-1)).toBe("/depc/prod/latest");
    // Each upload carried its bytes' sha256 for S3 to check.
    const bundlePut = s3.puts().find((r) => r.url.startsWith(`/depc/prod/bundles/${db}`))!;
    expect(Buffer.from(bundlePut.headers["x-amz-checksum-sha256"] as string, "base64").toString("hex")).toBe(db);

    const before = s3.puts().length;
    const again = await publish(T0 + 3600);
    expect(again.stdout).toBe("prod unchanged at serial 1 (expires 2027-01-22T08:00:00Z)\n");
    expect(again.code).toBe(0);
    expect(s3.puts().length).toBe(before);
  });

  it("a changed model: the bundles that changed and the next manifest only", async () => {
    const digests = () => ["db1", "web1"].map((h) => sha256(readFileSync(join(dir, "build", "prod", `${h}.sh`))));
    const old = digests();
    writeFileSync(join(dir, "env", "prod.ts"), ENV("hello again\n"));
    const before = s3.puts().length;
    const r = await publish(T0 + 7200);
    expect(r.code).toBe(0);
    const changed = digests().filter((d) => !old.includes(d));
    expect(changed.length).toBeGreaterThan(0);
    const puts = s3.puts().slice(before).map((p) => p.url.replace(/\?.*$/, ""));
    expect(puts.slice(0, -3).sort()).toEqual(changed.map((d) => `/depc/prod/bundles/${d}`).sort());
    expect(puts.slice(-3)).toEqual(["/depc/prod/manifests/2", "/depc/prod/manifests/2.sig", "/depc/prod/latest"]);
  });

  it("depc status reads it back: nobody reported, then db1 has", async () => {
    const none = await status(T0 + 7260);
    expect(none.stderr).toBe("");
    expect(none.stdout).toBe(
      [
        "prod in s3://depc/prod: serial 2, published 1 minute ago (2027-01-15T10:00:00Z), expires in 6 days (2027-01-22T10:00:00Z)",
        "",
        "host  serial  result          when  message",
        "db1   -       never reported  -",
        "web1  -       never reported  -",
        "",
        "0 of 2 hosts at serial 2; behind: db1, web1",
        "",
      ].join("\n"),
    );
    expect(none.code).toBe(1);
    // What db1's agent PUTs after applying serial 2.
    const store = await openStore("s3://depc/prod", { env: s3.env });
    const db = sha256(readFileSync(join(dir, "build", "prod", "db1.sh")));
    await store.put("reports/db1", Buffer.from(`depc-report 1\nhost db1\nserial 2\ndigest ${db}\nresult ok\nattempted 2\nat ${T0 + 7230}\nmessage applied\n`));
    const one = await status(T0 + 7260);
    expect(one.stdout.split("\n").slice(2)).toEqual([
      "host  serial  result          when                                   message",
      "db1   2       ok              30 seconds ago (2027-01-15T10:00:30Z)  applied",
      "web1  -       never reported  -",
      "",
      "1 of 2 hosts at serial 2; behind: web1",
      "",
    ]);
  });
});
