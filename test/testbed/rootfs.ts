// Prepared root filesystems for test hosts, built with debootstrap and cached by recipe.
//
// Cache layout: $DEPC_TESTBED_CACHE (default /var/cache/depc-testbed)/<kind>-<hash>/
//   rootfs/         the root filesystem (overlay lowerdir of every host of that kind)
//   busybox-root/   (debian kind only) a busybox-only root, copied into busybox hosts
//   packages.txt    installed package versions
// A build goes to a temporary directory next to it and is renamed when complete; a lock
// file makes two test files that start at once wait for one build.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withFileLock } from './lock.js';
import { run } from './run.js';

export type RootfsKind = 'debian' | 'systemd';

export const SUITE = 'bookworm';

/** Tools every test host has (deployments under test use them). */
const COMMON_PACKAGES = [
  'openssh-server',
  'sudo',
  'dash',
  'mksh',
  // busybox-static (Provides: busybox) so the busybox-only root needs no shared libraries.
  'busybox-static',
  'python3',
  'python3-venv',
  'supervisor',
  'diffutils',
  'procps',
];

export const RECIPES: Record<RootfsKind, readonly string[]> = {
  debian: [...COMMON_PACKAGES, 'python3-zc.buildout'],
  systemd: ['systemd', 'systemd-sysv', 'dbus', ...COMMON_PACKAGES],
};

const BUILD_SCRIPT = fileURLToPath(new URL('./build-rootfs.sh', import.meta.url));

export function cacheRoot(): string {
  return process.env.DEPC_TESTBED_CACHE || '/var/cache/depc-testbed';
}

export function recipeHash(kind: RootfsKind): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: 1, suite: SUITE, variant: 'minbase', kind, packages: RECIPES[kind] }));
  h.update(readFileSync(BUILD_SCRIPT));
  return h.digest('hex').slice(0, 16);
}

/**
 * The Debian mirror, read from this machine's apt configuration at run time (never written
 * into the repository): $DEPC_TESTBED_MIRROR, else the first `URIs:` of a deb822 stanza in
 * /etc/apt/sources.list.d/*.sources whose Suites has SUITE, else the first matching `deb`
 * line of /etc/apt/sources.list(.d/*.list).
 */
export function debianMirror(): string {
  if (process.env.DEPC_TESTBED_MIRROR) return process.env.DEPC_TESTBED_MIRROR;
  const dir = '/etc/apt/sources.list.d';
  const files = existsSync(dir) ? readdirSync(dir).sort().map((f) => join(dir, f)) : [];
  for (const f of files.filter((f) => f.endsWith('.sources'))) {
    for (const stanza of readFileSync(f, 'utf8').split(/\n\s*\n/)) {
      const field = (name: string): string[] => {
        const m = new RegExp(`^${name}:(.*)$`, 'mi').exec(stanza);
        return m?.[1] ? m[1].trim().split(/\s+/) : [];
      };
      if (/^Enabled:\s*no/im.test(stanza)) continue;
      if (field('Types').includes('deb') && field('Suites').includes(SUITE) && field('URIs')[0]) {
        return field('URIs')[0]!;
      }
    }
  }
  const lists = ['/etc/apt/sources.list', ...files.filter((f) => f.endsWith('.list'))];
  for (const f of lists) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (m && m[2] === SUITE) return m[1]!;
    }
  }
  throw new Error(`no apt source for ${SUITE} found in /etc/apt; set DEPC_TESTBED_MIRROR`);
}

export interface PreparedRootfs {
  dir: string;
  rootfs: string;
  busyboxRoot: string;
  /** true when this call built it (false: it came from the cache). */
  built: boolean;
  buildMs: number;
}

/** Return the cached rootfs of this kind, building it first when it is not cached. */
export async function ensureRootfs(kind: RootfsKind, log: (m: string) => void = () => {}): Promise<PreparedRootfs> {
  const root = cacheRoot();
  const name = `${kind}-${recipeHash(kind)}`;
  const dir = join(root, name);
  const result = (built: boolean, buildMs: number): PreparedRootfs => ({
    dir,
    rootfs: join(dir, 'rootfs'),
    busyboxRoot: join(dir, 'busybox-root'),
    built,
    buildMs,
  });
  if (existsSync(join(dir, 'rootfs'))) return result(false, 0);
  return withFileLock(join(root, `${name}.lock`), async () => {
    if (existsSync(join(dir, 'rootfs'))) return result(false, 0); // built while we waited
    // Leftovers of builds that crashed (we hold the lock: nobody else is building this).
    for (const f of existsSync(root) ? readdirSync(root) : []) {
      if (f.startsWith(`.tmp-${name}-`)) rmSync(join(root, f), { recursive: true, force: true });
    }
    const tmp = join(root, `.tmp-${name}-${process.pid}`);
    log(`[testbed] building ${kind} rootfs in ${dir} (first run only: about a minute)`);
    const t0 = Date.now();
    const r = await run('sh', [BUILD_SCRIPT, tmp, debianMirror(), SUITE, kind, ...RECIPES[kind]], {
      timeoutMs: 20 * 60_000,
    });
    if (r.code !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      throw new Error(`building the ${kind} test rootfs failed:\n${r.stderr}`);
    }
    renameSync(tmp, dir);
    const ms = Date.now() - t0;
    log(`[testbed] ${kind} rootfs built in ${(ms / 1000).toFixed(1)} s`);
    return result(true, ms);
  });
}
