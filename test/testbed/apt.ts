// A local apt repository for the test hosts, which have no route to the machine's apt
// mirror: the .deb files of a package set, with their dependencies resolved against the
// test rootfs, downloaded on this machine, indexed, and served over HTTP from the bridge
// address. Hosts get it as a package source the way a real site would: a sources.list
// entry (a depc File in the test's model). See README.md, "A local apt repository".
//
// Cache layout: $DEPC_TESTBED_CACHE/apt/
//   pool/                 every .deb downloaded so far (shared by all sets: a new set
//                         downloads only what the pool lacks)
//   pool.lock             held while a set is made (flock, like the rootfs builds)
//   sets/<hash>/          one repository per package set and rootfs: hard links into the
//                         pool, Packages, Packages.gz, Release (unsigned: [trusted=yes])
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { withFileLock } from './lock.js';
import { cacheRoot, SUITE, type PreparedRootfs } from './rootfs.js';
import { haveCommand, run } from './run.js';

/**
 * The packages the e2e tests install on test hosts through depc (Package), one union
 * so that every test shares one cached repository. Add what your test needs here: a new
 * list makes a new set, but only the .deb files the pool lacks are downloaded.
 */
export const APT_REPO_PACKAGES: readonly string[] = [
  // examples/django
  'nginx',
  'postgresql',
  'python3-django',
  'gunicorn',
  'python3-psycopg2',
  // rollout
  'haproxy',
  // sched
  'cron',
  'logrotate',
  // Package's own e2e tests (small, quick to install)
  'hello',
  'sl',
  'cowsay',
];

const DOWNLOAD_SCRIPT = fileURLToPath(new URL('./download-debs.sh', import.meta.url));
const SERVE_SCRIPT = fileURLToPath(new URL('./apt-serve.mjs', import.meta.url));

export interface AptRepository {
  /** The sources.list line for test hosts: `deb [trusted=yes] http://10.213.77.1:PORT/ ./` */
  readonly sourcesListLine: string;
  /** `http://10.213.77.1:PORT/` */
  readonly url: string;
  /** The repository's directory in the cache (the .deb files, Packages, Release). */
  readonly dir: string;
  /** Package name → version, of every package in the repository. */
  readonly versions: ReadonlyMap<string, string>;
  /** true when this call made the set (downloads, index); false: it came from the cache. */
  readonly built: boolean;
  /** Milliseconds spent making the set (0 when cached) and starting the server. */
  readonly timings: { readonly make: number; readonly serve: number };
}

/** The cache directory of a package set resolved against these rootfs dirs. */
function setName(packages: readonly string[], rootfs: readonly PreparedRootfs[]): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: 1, suite: SUITE, packages: [...new Set(packages)].sort(), rootfs: rootfs.map((r) => r.dir).sort() }));
  h.update(readFileSync(DOWNLOAD_SCRIPT));
  return h.digest('hex').slice(0, 16);
}

/**
 * The cached repository of `packages` (with dependencies) for hosts made from `rootfs`
 * (each of them: a systemd host lacks what only the Debian rootfs has), made when missing.
 */
export async function ensureAptSet(
  packages: readonly string[],
  rootfs: readonly PreparedRootfs[],
  log: (m: string) => void = () => {},
): Promise<{ dir: string; built: boolean; ms: number }> {
  const root = join(cacheRoot(), 'apt');
  const dir = join(root, 'sets', setName(packages, rootfs));
  if (existsSync(join(dir, 'Release'))) return { dir, built: false, ms: 0 };
  if (!haveCommand('dpkg-scanpackages')) throw new Error('the test bed\'s apt repository needs dpkg-scanpackages on this machine: apt-get install -y dpkg-dev');
  return withFileLock(join(root, 'pool.lock'), async () => {
    if (existsSync(join(dir, 'Release'))) return { dir, built: false, ms: 0 }; // made while we waited
    const t0 = Date.now();
    const pool = join(root, 'pool');
    mkdirSync(pool, { recursive: true });
    // Leftovers of runs that crashed (we hold the lock: nobody else is making a set).
    for (const base of [root, join(root, 'sets')]) {
      for (const f of existsSync(base) ? readdirSync(base) : []) if (f.startsWith('.tmp-')) rmSync(join(base, f), { recursive: true, force: true });
    }
    log(`[testbed] downloading ${packages.length} apt packages with their dependencies into ${pool} (first run only)`);
    const files = new Set<string>();
    for (const fs of rootfs) {
      const work = join(root, `.tmp-work-${process.pid}`);
      rmSync(work, { recursive: true, force: true });
      const r = await run('sh', [DOWNLOAD_SCRIPT, fs.rootfs, pool, work, ...packages], { timeoutMs: 20 * 60_000 });
      const install = existsSync(join(work, 'install.txt')) ? readFileSync(join(work, 'install.txt'), 'utf8') : '';
      rmSync(work, { recursive: true, force: true });
      if (r.code !== 0) throw new Error(`downloading the test hosts' apt packages failed:\n${r.stderr}`);
      for (const line of install.split('\n').filter(Boolean)) files.add(debFileName(line));
    }
    const tmp = join(root, 'sets', `.tmp-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    for (const f of [...files].sort()) {
      if (!existsSync(join(pool, f))) throw new Error(`apt-get did not download ${f} into ${pool}`);
      linkSync(join(pool, f), join(tmp, f));
    }
    const scan = await run('sh', ['-c', 'cd "$1" && exec dpkg-scanpackages --multiversion . /dev/null', 'sh', tmp], { timeoutMs: 10 * 60_000 });
    if (scan.code !== 0) throw new Error(`dpkg-scanpackages failed:\n${scan.stderr}`);
    writeIndex(tmp, scan.stdout);
    renameSync(tmp, dir);
    const ms = Date.now() - t0;
    log(`[testbed] apt repository of ${files.size} .deb files made in ${(ms / 1000).toFixed(1)} s`);
    return { dir, built: true, ms };
  });
}

/** `Inst NAME [OLD] (VERSION ARCHIVES [ARCH])` → the file name apt gives the .deb in its archive dir. */
export function debFileName(inst: string): string {
  const m = /^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) .*\[([^\]]+)\]\)/.exec(inst);
  if (m === null) throw new Error(`cannot read apt-get's simulated install line: ${inst}`);
  return `${m[1]}_${m[2]!.replace(/:/g, '%3a')}_${m[3]}.deb`;
}

/** Packages, Packages.gz and an unsigned Release (with the indexes' sizes and digests). */
function writeIndex(dir: string, packages: string): void {
  writeFileSync(join(dir, 'Packages'), packages);
  writeFileSync(join(dir, 'Packages.gz'), gzipSync(packages, { level: 9 }));
  const sums = (algo: string) =>
    ['Packages', 'Packages.gz'].map((f) => ` ${createHash(algo).update(readFileSync(join(dir, f))).digest('hex')} ${statSync(join(dir, f)).size} ${f}`).join('\n');
  // A flat repository ("./"): no Suite/Codename needed; Date keeps apt's validity check quiet.
  writeFileSync(
    join(dir, 'Release'),
    `Origin: depc-testbed\nLabel: depc-testbed\nArchitectures: ${process.arch === 'arm64' ? 'arm64' : 'amd64'} all\nDate: ${new Date().toUTCString()}\nMD5Sum:\n${sums('md5')}\nSHA256:\n${sums('sha256')}\n`,
  );
}

/** Package name → version from a repository's Packages file. */
export function repositoryVersions(dir: string): Map<string, string> {
  const versions = new Map<string, string>();
  for (const stanza of readFileSync(join(dir, 'Packages'), 'utf8').split(/\n\n+/)) {
    const name = /^Package: (\S+)$/m.exec(stanza)?.[1];
    const version = /^Version: (\S+)$/m.exec(stanza)?.[1];
    if (name !== undefined && version !== undefined) versions.set(name, version);
  }
  return versions;
}

/**
 * Serve `dir` over HTTP on `address` (a free port): a child process (apt-serve.mjs), so
 * a test that blocks its own event loop (spawnSync of `depc deploy`) still gets answers.
 * It exits when its stdin closes: with this process, even after a SIGKILL.
 */
export async function serveDirectory(dir: string, address: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [SERVE_SCRIPT, dir, address], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^listening (\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the apt repository server exited (${code}): ${stderr.trim()}`)));
  });
  return { child, port };
}
