// What test/e2e/django.test.ts and test/bench/django.mjs share: a deployment
// project made of examples/django (its components and app, copied), an
// environment for the test bed's hosts, and the environment's secrets
// encrypted to a key made for the run.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeProject, repoRoot } from "../support/project.js";
import { cacheRoot, ensureRootfs, recipeHash, SUBNET } from "../testbed/index.js";
import { withFileLock } from "../testbed/lock.js";
import { runOk } from "../testbed/run.js";

export const EXAMPLE = join(repoRoot, "examples", "django");

/** The packages the example installs (what the test bed's apt repository must hold, with their dependencies). */
export const DJANGO_PACKAGES = ["nginx", "postgresql", "python3-django", "python3-psycopg2", "gunicorn", "supervisor", "cron", "logrotate"];

export interface BedEnvOptions {
  /** The sources.list line of the test bed's apt repository. */
  readonly aptSource: string;
  /** Hosts and their components: `lb`, `web1`, `web2`, `db` by default (prod's). */
  readonly hosts?: Readonly<Record<string, string>>;
  /** The `django` component's nightly cron job. */
  readonly clearSessions?: boolean;
}

const PROD_HOSTS = {
  lb: "loadBalancer",
  web1: "django",
  web2: "django.with({ migrate: false })",
  db: "postgres",
};

/** An environment of the example for the test bed: prod's hosts, and the bed's package source on every host. */
export function bedEnv(o: BedEnvOptions): string {
  const hosts = Object.entries(o.hosts ?? PROD_HOSTS).map(([name, components]) => `    ${name}: [aptSource, ${components}],`);
  return `import { component, environment, File } from "depc";
import { django } from "../components/django.ts";
import { loadBalancer } from "../components/load-balancer.ts";
import { postgres } from "../components/postgres.ts";

/**
 * The test bed's local apt repository, served from the bridge: the hosts' only
 * package source (the whole sources.list: the mirror's entry would fail apt-get update).
 */
const aptSource = component({
  name: "aptSource",
  settings: {},
  build() {
    File({ path: "/etc/apt/sources.list", content: ${JSON.stringify(`${o.aptSource}\n`)} });
  },
});

export default environment({
  hosts: {
${hosts.join("\n")}
  },
  settings: {
    django: { workers: 2, clearSessions: ${o.clearSessions ?? true} },
  },
});
`;
}

/**
 * A project dir with the example's components and app, `env/<name>.ts`, and
 * `secrets/<name>.age` made with `depc secrets edit` from a fresh age key
 * (`age.key` in the project: pass it as DEPC_AGE_IDENTITY).
 */
export function djangoProject(name: string, env: string): { dir: string; identity: string; cleanup: () => void } {
  const project = makeProject({ [`env/${name}.ts`]: env });
  for (const dir of ["components", "app"]) cpSync(join(EXAMPLE, dir), join(project.dir, dir), { recursive: true });
  const identity = join(project.dir, "age.key");
  const key = spawnSync("age-keygen", ["-o", identity], { encoding: "utf8" });
  if (key.status !== 0) throw new Error(`age-keygen: ${key.stderr}`);
  const plain = join(project.dir, "secrets.json");
  // A password with both quote characters: it must reach PostgreSQL and Django's settings intact.
  writeFileSync(plain, JSON.stringify({ django: { secret_key: "e2e-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz" }, db: { password: `e2e 'pass" word` } }));
  const edit = spawnSync(process.execPath, [join(repoRoot, "bin", "depc.js"), "secrets", "edit", name, "--from", plain], {
    cwd: project.dir,
    encoding: "utf8",
    env: { ...process.env, EDITOR: "true", VISUAL: "true", DEPC_AGE_IDENTITY: identity },
  });
  if (edit.status !== 0) throw new Error(`depc secrets edit: ${edit.stdout}${edit.stderr}`);
  return { ...project, identity };
}

// ---- the hosts' package source (interim: until the pkg branch's test-bed apt repository is merged) ----

/**
 * A local apt repository of `packages` and what they need beyond the systemd
 * rootfs, downloaded once on this machine (from its own apt sources) and cached
 * beside the root filesystems, keyed by the package list and the rootfs recipe.
 */
export async function aptRepository(packages: readonly string[]): Promise<string> {
  const rootfs = await ensureRootfs("systemd");
  const hash = createHash("sha256").update(JSON.stringify({ v: 2, packages: [...packages].sort(), rootfs: recipeHash("systemd") })).digest("hex").slice(0, 16);
  const dir = join(cacheRoot(), `apt-${hash}`);
  if (existsSync(join(dir, "Packages"))) return dir;
  return withFileLock(`${dir}.lock`, async () => {
    if (existsSync(join(dir, "Packages"))) return dir;
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(join(tmp, "partial"), { recursive: true });
    const status = join(rootfs.rootfs, "var/lib/dpkg/status");
    // With their recommends: whatever the host's apt-get installs must be there.
    await runOk("apt-get", ["install", "-y", "-qq", "--download-only", "-o", `Dir::State::status=${status}`, "-o", `Dir::Cache::archives=${tmp}`, ...packages], { timeoutMs: 600_000 });
    rmSync(join(tmp, "partial"), { recursive: true, force: true });
    rmSync(join(tmp, "lock"), { force: true });
    const index = await runOk("sh", ["-c", 'cd "$1" && dpkg-scanpackages -m . 2>/dev/null', "sh", tmp], { timeoutMs: 120_000 });
    writeFileSync(join(tmp, "Packages"), index.stdout);
    renameSync(tmp, dir);
    return dir;
  });
}

/** Serves `dir` over HTTP on the bridge's address (the bed must be running); the sources.list line and a stop function. */
export async function serveAptRepository(dir: string): Promise<{ sourceLine: string; stop: () => void }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const server = spawn("/usr/bin/python3", ["-m", "http.server", "--bind", `${SUBNET}.1`, "--directory", dir, String(port)], { stdio: ["ignore", "ignore", "pipe"] });
    let exited = false;
    server.on("exit", () => (exited = true));
    for (let i = 0; i < 50 && !exited; i++) {
      const probe = spawnSync("curl", ["-sf", "-o", "/dev/null", `http://${SUBNET}.1:${port}/Packages`]);
      if (probe.status === 0) return { sourceLine: `deb [trusted=yes] http://${SUBNET}.1:${port}/ ./`, stop: () => server.kill() };
      await new Promise((r) => setTimeout(r, 100));
    }
    server.kill();
  }
  throw new Error("could not serve the apt repository on the bridge");
}
