// End-to-end: PullAgent's cron scheduler on a host without systemd (a plain test-bed
// host: no init system), the store Debian's real nginx on this machine. The host gets
// Debian's cron from the bed's apt repository and runs its daemon under a supervisord
// of the deployment (there is no init to start it); PullAgent puts the agent in root's
// crontab every minute (cron's smallest period) with a 5 s splay. One push deploy, then
// two publishes: the agent applies each from cron within about a minute.
// Needs root and nginx (test/testbed/README.md): skipped elsewhere, a failure in CI.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, repoRoot } from "../support/project.js";
import { startHttpStore, type HttpStore } from "../testbed/http-store.js";
import { Testbed, testbedPrerequisites } from "../testbed/index.js";

const pre = testbedPrerequisites({ systemd: false });
const missing = [...pre.missing, ...(existsSync("/usr/sbin/nginx") ? [] : ["nginx (apt-get install -y nginx)"])];
if (missing.length > 0) {
  if (process.env.CI === "true") throw new Error(`pull cron e2e prerequisites missing in CI:\n  ${missing.join("\n  ")}\n${pre.howTo}`);
  console.warn(`[pull cron e2e] skipping: ${missing.join("; ")}.\n${pre.howTo}`);
}

const ENV = "crony";

const envFile = (sourcesLine: string, store: string, publisherKey: string, release: string) => `import { environment, component, Directory, File, Package, Program, PullAgent, Supervisor } from "depc";

// curl and cron from the bed's apt repository (test hosts reach no other); cron's daemon under
// a supervisord of the deployment, since a plain test host has no init system to start it.
const base = component({
  name: "base",
  build() {
    const sources = [
      File({ path: "/etc/apt/sources.list", content: "# from sources.list.d\\n" }),
      File({ path: "/etc/apt/sources.list.d/depc-test.list", content: ${JSON.stringify(`${sourcesLine}\n`)} }),
    ];
    const pkgs = [Package({ name: "curl", after: sources }), Package({ name: "cron", after: sources })];
    const sup = Supervisor({ flavour: "user", base: "/srv/sup", bin: "/usr/bin" });
    Program({ supervisor: sup, name: "cron", command: ["/usr/sbin/cron", "-f"], after: pkgs });
  },
});

const app = component({
  name: "app",
  settings: { release: "r0" },
  build(s) {
    Directory({ path: "/srv/app" });
    File({ path: "/srv/app/release", content: \`\${s.release}\\n\` });
  },
});

const pull = PullAgent({ store: ${JSON.stringify(store)}, publisherKey: ${JSON.stringify(publisherKey)}, scheduler: "cron", every: 60, splay: 5 });

export default environment({
  hosts: { c1: [base, pull, app] },
  settings: { app: { release: ${JSON.stringify(release)} } },
});
`;

describe.skipIf(missing.length > 0)("PullAgent with cron on a host without systemd", () => {
  let bed: Testbed;
  let store: HttpStore;
  let scratch: string;
  let project: { dir: string; cleanup: () => void };
  let setRelease: (release: string) => void;
  const key = () => join(scratch, "publisher");
  const storeRoot = () => join(scratch, "store");

  const depc = (args: string[]) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [join(repoRoot, "bin", "depc.js"), ...args], { cwd: project.dir, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (out += c));
      child.on("close", (code) => resolve({ code, out }));
    });
  const publish = async (release: string) => {
    setRelease(release);
    const r = await depc(["publish", `env/${ENV}`, "--to", storeRoot(), "--sign-key", key()]);
    if (r.code !== 0) throw new Error(`depc publish failed:\n${r.out}`);
    return Number(readFileSync(join(storeRoot(), "latest"), "utf8"));
  };
  const reported = () => {
    const f = join(storeRoot(), "reports", "c1");
    return existsSync(f) ? Number(/^serial (\d+)$/m.exec(readFileSync(f, "utf8"))?.[1] ?? 0) : 0;
  };
  /** Waits (up to 150 s: a minute's tick, the splay, the apply) for the host's report of `serial`; seconds waited. */
  async function applied(serial: number): Promise<number> {
    const t0 = Date.now();
    while (reported() < serial) {
      if (Date.now() - t0 > 150_000) {
        const diag = await bed.exec("c1", `crontab -l; ls -la /var/lib/depc/${ENV}/pull; tail -n 5 /var/lib/depc/${ENV}/pull/log; pgrep -a cron`);
        throw new Error(`c1 did not report serial ${serial} in 150 s:\n${diag.stdout}${diag.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    return (Date.now() - t0) / 1000;
  }

  beforeAll(async () => {
    bed = await Testbed.start({ hosts: [{ name: "c1" }] });
    const repo = await bed.aptRepository(["curl", "cron"]);
    scratch = mkdtempSync(join(tmpdir(), "depc-pull-cron-"));
    mkdirSync(storeRoot());
    store = await startHttpStore(storeRoot());
    const k = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "publisher", "-f", key()]);
    if (k.status !== 0) throw new Error(k.stderr.toString());
    const pub = readFileSync(`${key()}.pub`, "utf8").trim();
    project = makeProject({ [`env/${ENV}.ts`]: envFile(repo.sourcesListLine, store.url, pub, "r0") });
    setRelease = (release) => writeFileSync(join(project.dir, "env", `${ENV}.ts`), envFile(repo.sourcesListLine, store.url, pub, release));
    await publish("r0");
    const push = await depc(["deploy", `env/${ENV}`, "-F", bed.sshConfigFile]);
    if (push.code !== 0) throw new Error(`the bootstrap push deploy failed:\n${push.out}`);
  }, 600_000);

  afterAll(async () => {
    await store?.stop();
    await bed?.stop();
    project?.cleanup();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }, 120_000);

  it("the push put the agent in root's crontab, and cron runs it: serial 1 reported", async () => {
    const tab = await bed.exec("c1", "crontab -l -u root");
    expect(tab.stdout).toContain(`* * * * * /usr/local/lib/depc/pull-agent /etc/depc/pull-${ENV}.conf`);
    const s = await applied(1);
    console.log(`[pull cron e2e] serial 1 reported ${s.toFixed(1)} s after the push`);
  }, 200_000);

  it("a publish is applied from cron within about a minute", async () => {
    const serial = await publish("r1");
    const s = await applied(serial);
    console.log(`[pull cron e2e] serial ${serial} applied ${s.toFixed(1)} s after the publish`);
    expect((await bed.exec("c1", "cat /srv/app/release")).stdout).toBe("r1\n");
    expect((await bed.exec("c1", `cat /var/lib/depc/${ENV}/pull/log`)).stdout).toMatch(new RegExp(`Z serial ${serial}: applied$`, "m"));
  }, 200_000);
});
