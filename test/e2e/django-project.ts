// What test/e2e/django.test.ts and test/bench/django.mjs share: a deployment
// project made of examples/django (its components and app, copied), an
// environment for the test bed's hosts, and the environment's secrets
// encrypted to a key made for the run.
import { spawnSync } from "node:child_process";
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeProject, repoRoot } from "../support/project.js";

export const EXAMPLE = join(repoRoot, "examples", "django");

export interface BedEnvOptions {
  /** The sources.list line of the test bed's apt repository (`bed.aptRepository()`). */
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
