// End-to-end tests of the test bed itself: real sshd hosts in network namespaces, a
// busybox-only host and a systemd host, reached over real ssh. Needs root (see
// test/testbed/README.md); skipped with a message elsewhere, a failure in CI.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Testbed, testbedPrerequisites } from '../testbed/index.js';

const pre = testbedPrerequisites();
if (!pre.ok) {
  if (process.env.CI === 'true') {
    throw new Error(`test bed prerequisites missing in CI:\n  ${pre.missing.join('\n  ')}\n${pre.howTo}`);
  }
  console.warn(`[testbed] skipping the test bed e2e tests: ${pre.missing.join('; ')}.\n${pre.howTo}`);
}

/** ssh with the bed's config, straight from the machine (no helper in between). */
function ssh(bed: Testbed, args: string[], input?: string): { code: number; stdout: string; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync('ssh', ['-F', bed.sshConfigFile, ...args], { encoding: 'utf8', input: input ?? '', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

function netnsNames(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}

function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

function cgroupDirsWith(id: string): string[] {
  const found: string[] = [];
  for (const base of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified', '/sys/fs/cgroup/systemd']) {
    if (!existsSync(base)) continue;
    for (const e of readdirSync(base)) if (e.startsWith('depc-') && e.endsWith(id)) found.push(join(base, e));
  }
  return found;
}

describe.skipIf(!pre.ok)('test bed (real hosts)', () => {
  let bed: Testbed;

  beforeAll(async () => {
    bed = await Testbed.start({
      hosts: [
        { name: 'h1' },
        { name: 'h2', shell: 'mksh' },
        { name: 'bb', userland: 'busybox' },
        { name: 'sd', systemd: true },
      ],
    });
    console.log(`[testbed] started ${bed.hostNames.join(', ')} in ${bed.timings.total} ms`, bed.timings);
  }, 600_000);

  afterAll(async () => {
    await bed?.stop();
  }, 120_000);

  it('reaches every host over ssh with strict host key checking, via the generated ssh config', () => {
    const cfg = readFileSync(bed.sshConfigFile, 'utf8');
    expect(cfg).toMatch(/StrictHostKeyChecking yes/);
    for (const name of ['h1', 'h2', 'bb', 'sd']) {
      expect(cfg).toContain(`Host ${name}\n`);
      const r = ssh(bed, [name, 'hostname']);
      expect(r, r.stderr).toMatchObject({ code: 0 });
      expect(r.stdout.trim()).toBe(name);
    }
    // A fresh connection (no control master) that presents h1's key for h2's known_hosts fails.
    const wrong = join(bed.dir, 'wrong_known_hosts');
    const h2Key = readFileSync(join(bed.dir, 'known_hosts', 'h2'), 'utf8').split(' ').slice(1).join(' ');
    writeFileSync(wrong, `h1,${bed.address('h1')} ${h2Key}`);
    const r = ssh(bed, ['-o', 'ControlPath=none', '-o', `UserKnownHostsFile=${wrong}`, 'h1', 'true']);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    // scp works with the same config.
    const local = join(bed.dir, 'scp-probe');
    writeFileSync(local, 'probe\n');
    const s = spawnSync('scp', ['-F', bed.sshConfigFile, '-q', local, 'h2:/root/scp-probe'], { encoding: 'utf8' });
    expect(s.status, s.stderr).toBe(0);
    expect(readFileSync(join(bed.upperDir('h2'), 'root/scp-probe'), 'utf8')).toBe('probe\n');
  }, 60_000);

  it('exec returns code, stdout and stderr; writes land in the upper dir', async () => {
    const r = await bed.exec('h1', 'echo out; echo err >&2; mkdir -p /srv/app; echo v1 >/srv/app/conf; exit 3');
    expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(readFileSync(join(bed.upperDir('h1'), 'srv/app/conf'), 'utf8')).toBe('v1\n');
    expect(existsSync(join(bed.upperDir('h2'), 'srv/app/conf'))).toBe(false);
    expect((await bed.exec('h1', 'cat', { input: 'stdin works' })).stdout).toBe('stdin works');
    expect((await bed.exec('h1', 'cat /etc/hostname')).stdout).toBe('h1\n');
    await bed.copyTo('h1', join(bed.dir, 'ssh_config'), '/root/copied');
    expect((await bed.exec('h1', 'head -c 15 /root/copied')).stdout).toBe('# depc test bed');
    const ns = await bed.rootExec('h1', 'hostname; ls /root/copied');
    expect(ns.stdout).toBe('h1\n/root/copied\n');
  }, 60_000);

  it('gives h2 /bin/sh = mksh and h1 /bin/sh = dash', async () => {
    expect((await bed.exec('h1', 'readlink /bin/sh')).stdout.trim()).toBe('dash');
    expect((await bed.exec('h2', 'readlink /bin/sh')).stdout.trim()).toBe('mksh');
    expect((await bed.exec('h2', `sh -c 'echo "$KSH_VERSION"'`)).stdout).toMatch(/MIRBSD KSH/);
  }, 60_000);

  it('lets hosts reach each other by name (h1 -> h2 over ssh)', async () => {
    const r = await bed.exec('h1', 'ssh h2 hostname');
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'h2\n' });
    const back = await bed.exec('h2', 'ssh h1 cat /etc/hostname');
    expect(back.stdout).toBe('h1\n');
    const sd = await bed.exec('h1', 'ssh sd hostname');
    expect(sd.stdout).toBe('sd\n');
  }, 60_000);

  it('gives the busybox host a busybox-only userland (no bash, no coreutils)', async () => {
    const r = await bed.exec('bb', 'command -v bash; echo "bash:$?"; ls -l /bin/sh; readlink /bin/ls; readlink /usr/bin/env; ls /usr/lib 2>&1');
    expect(r.stdout).toContain('bash:1');
    expect(r.stdout).toMatch(/\/bin\/sh -> \/bin\/busybox/);
    expect(r.stdout).toContain('/bin/busybox\n/bin/busybox\n'); // ls and env are busybox applets
    expect(r.stdout).toMatch(/No such file or directory/); // no shared libraries at all
    const w = await bed.exec('bb', 'echo data >/root/x; sha256sum /root/x');
    expect(w.code).toBe(0);
    expect(readFileSync(join(bed.upperDir('bb'), 'root/x'), 'utf8')).toBe('data\n');
  }, 60_000);

  it('runs systemd as PID 1 on the systemd host; a tiny unit can be enabled and started', async () => {
    const state = await bed.exec('sd', 'systemctl is-system-running --wait', { timeoutMs: 60_000 });
    expect(state.stdout.trim()).toMatch(/^(running|degraded)$/);
    expect((await bed.exec('sd', 'cat /proc/1/comm')).stdout.trim()).toBe('systemd');
    const unit = [
      '[Unit]',
      'Description=depc test bed probe',
      '[Service]',
      "ExecStart=/bin/sh -c 'echo hello >/run/depc-hello; exec sleep infinity'",
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n');
    const r = await bed.exec(
      'sd',
      'cat >/etc/systemd/system/depc-hello.service && systemctl daemon-reload && systemctl enable --now depc-hello.service && systemctl is-active depc-hello.service && cat /run/depc-hello',
      { input: unit },
    );
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'active\nhello\n' });
    const wants = join(bed.upperDir('sd'), 'etc/systemd/system/multi-user.target.wants/depc-hello.service');
    expect(readlinkSync(wants)).toBe('/etc/systemd/system/depc-hello.service');
  }, 90_000);

  it('stopSshd makes ssh fail fast with a connection error; startSshd restores it', async () => {
    for (const name of ['h1', 'sd']) {
      await bed.stopSshd(name);
      const r = ssh(bed, [name, 'true']);
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/Connection refused/);
      expect(r.ms).toBeLessThan(3000);
      await bed.startSshd(name);
      expect((await bed.exec(name, 'echo back')).stdout).toBe('back\n');
    }
    // the other hosts were not affected
    expect((await bed.exec('h2', 'true')).code).toBe(0);
  }, 120_000);

  it('adds a non-root user with the client key and NOPASSWD sudo', async () => {
    for (const name of ['h1', 'sd']) {
      await bed.addUser(name, 'deploy', { sudo: 'nopasswd' });
      const r = await bed.exec(name, 'id -un; echo "$HOME"; sudo -n true && echo sudo-ok; sudo -n id -u', { user: 'deploy' });
      expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'deploy\n/home/deploy\nsudo-ok\n0\n' });
      const direct = ssh(bed, [`deploy@${name}`, 'id -un']);
      expect(direct.stdout).toBe('deploy\n');
    }
    await bed.addUser('h2', 'app'); // no sudo
    const noSudo = await bed.exec('h2', 'sudo -n true', { user: 'app' });
    expect(noSudo.code).not.toBe(0);
    await bed.addUser('bb', 'deploy');
    const bb = await bed.exec('bb', 'id -un; pwd; touch mine && ls -n mine', { user: 'deploy' });
    expect(bb, bb.stderr).toMatchObject({ code: 0 });
    expect(bb.stdout).toMatch(/^deploy\n\/home\/deploy\n/);
    expect(existsSync(join(bed.upperDir('bb'), 'home/deploy/mine'))).toBe(true);
  }, 90_000);

  it('stop() removes every namespace, mount, process, cgroup dir and temp dir; it is idempotent', async () => {
    const id = bed.id;
    const pids = bed.pids;
    const dir = bed.dir;
    expect(pids.length).toBeGreaterThanOrEqual(8);
    expect(netnsNames().filter((n) => n.endsWith(`-${id}`))).toHaveLength(4);
    expect(cgroupDirsWith(id).length).toBeGreaterThan(0);
    await bed.stop();
    await bed.stop();
    expect(netnsNames().filter((n) => n.endsWith(`-${id}`))).toEqual([]);
    const mounts = readFileSync('/proc/mounts', 'utf8');
    expect(mounts).not.toContain(id);
    expect(pids.filter(processAlive)).toEqual([]);
    expect(cgroupDirsWith(id)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })).not.toContain(`depc${id}`);
    expect(existsSync(`/run/depc-testbed/beds/${id}`)).toBe(false);
  }, 120_000);
});

describe.skipIf(!pre.ok)('test beds side by side', () => {
  it('two test beds with the same host names do not clash', async () => {
    const [a, b] = await Promise.all([
      Testbed.start({ hosts: [{ name: 'web' }] }),
      Testbed.start({ hosts: [{ name: 'web' }] }),
    ]);
    try {
      expect(a.id).not.toBe(b.id);
      expect(a.address('web')).not.toBe(b.address('web'));
      await a.exec('web', 'echo a >/root/who');
      await b.exec('web', 'echo b >/root/who');
      expect((await a.exec('web', 'cat /root/who')).stdout).toBe('a\n');
      expect((await b.exec('web', 'cat /root/who')).stdout).toBe('b\n');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(netnsNames().filter((n) => n.endsWith(a.id) || n.endsWith(b.id))).toEqual([]);
  }, 300_000);

  it('cleans up after a start that fails', async () => {
    const before = netnsNames().filter((n) => n.startsWith('depc-'));
    const beds = readdirSync('/run/depc-testbed/beds');
    await expect(Testbed.start({ hosts: [{ name: 'late' }], readyTimeoutMs: 1, log: () => {} })).rejects.toThrow(
      /sshd not reachable/,
    );
    expect(netnsNames().filter((n) => n.startsWith('depc-'))).toEqual(before);
    expect(readdirSync('/run/depc-testbed/beds')).toEqual(beds);
  }, 120_000);

  it('rejects bad host specs before creating anything', async () => {
    await expect(Testbed.start({ hosts: [{ name: 'A B' }] })).rejects.toThrow(/bad test host name/);
    await expect(Testbed.start({ hosts: [{ name: 'x' }, { name: 'x' }] })).rejects.toThrow(/duplicate/);
  });
});
