// depc's real test-host harness: sshd hosts in network namespaces with overlay roots, a
// busybox-only host, and a host with systemd as PID 1 (systemd-nspawn). See README.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shellQuote } from '../../compiler/emit/quote.js';
import { withFileLock } from './lock.js';
import { ensureRootfs, type PreparedRootfs } from './rootfs.js';
import { APT_REPO_PACKAGES, ensureAptSet, repositoryVersions, serveDirectory, type AptRepository } from './apt.js';
import { run, runOk, runSync, sleep, type RunResult } from './run.js';
import { testbedPrerequisites } from './prerequisites.js';

export type Shell = 'dash' | 'mksh' | 'bash' | 'busybox';

export interface HostSpec {
  /** Host name: ssh alias, /etc/hostname, /etc/hosts entry. [a-z][a-z0-9-]*, at most 20 chars. */
  name: string;
  /** What /bin/sh is on a Debian host (a symlink in the host's upper dir). Default dash. */
  shell?: Shell;
  /** 'busybox': the ssh session sees a busybox-only root (no bash, no coreutils). */
  userland?: 'debian' | 'busybox';
  /** systemd as PID 1 (systemd-nspawn -b), sshd started by systemd. */
  systemd?: boolean;
}

export interface TestbedOptions {
  hosts: HostSpec[];
  /** Progress messages (rootfs builds). Default: console.error. */
  log?: (msg: string) => void;
  /** How long to wait for each host's sshd. Default 30 s (60 s for systemd hosts). */
  readyTimeoutMs?: number;
}

export type ExecResult = RunResult;

export interface ExecOptions {
  /** Log in as this user instead of root (see addUser). */
  user?: string;
  /** Standard input for the remote command. */
  input?: string | Buffer;
  /** Kill the local ssh client after this long (default 120 s). */
  timeoutMs?: number;
  /** Extra ssh options, e.g. ['-o', 'ControlMaster=no']. */
  sshOptions?: string[];
}

export interface AddUserOptions {
  /** 'nopasswd': a sudoers.d entry `USER ALL=(ALL:ALL) NOPASSWD: ALL`. Default: no sudo. */
  sudo?: 'nopasswd' | 'none';
  /** Login shell. Default /bin/sh. */
  shell?: string;
}

type Kind = 'debian' | 'busybox' | 'systemd';

interface Host {
  spec: HostSpec;
  kind: Kind;
  name: string;
  address: string;
  addrIndex: number;
  netns: string;
  veth: string;
  dir: string;
  upper: string;
  work: string;
  merged: string;
  hostKeyPub: string;
  /** The host's PID 1 as seen from this machine (debian/busybox: unshare's child; systemd: the container's init). */
  initPid: number;
  /** unshare (debian/busybox) or systemd-nspawn (systemd), the process this harness spawned. */
  launcherPid: number;
  machine: string;
  cgroups: string[];
}

const STATE_ROOT = process.env.DEPC_TESTBED_STATE || '/run/depc-testbed';
export const BRIDGE = 'depcbr0';
/** The private /24 used only for test hosts; .1 is the bridge (this machine). */
export const SUBNET = '10.213.77';
const BRIDGE_ADDR = `${SUBNET}.1`;
const FIRST_HOST = 10;
const LAST_HOST = 250;
const BUSYBOX_ROOT = '/srv/depc-busybox';
const SSHD_CONFIG = '/etc/ssh/depc_sshd_config';
const CLEANUP_SH = fileURLToPath(new URL('./cleanup.sh', import.meta.url));
const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const live = new Set<Testbed>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const bed of live) bed.stopSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      for (const bed of live) bed.stopSync();
      process.removeListener(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

function procStartTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19]!;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const status = readFileSync(`/proc/${e}/status`, 'utf8');
      if (new RegExp(`^PPid:\\s+${pid}$`, 'm').test(status)) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

function pidNs(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** A running set of test hosts. Create with Testbed.start(); always stop() it (afterAll). */
export class Testbed {
  /** Per-test-bed suffix of every name this test bed creates (netns, veth, cgroups, dirs). */
  readonly id: string;
  /** The test bed's temporary directory (host upper dirs, keys, ssh config). */
  readonly dir: string;
  /** ssh_config with a Host entry per test host: `ssh -F bed.sshConfigFile h1 ...`. */
  readonly sshConfigFile: string;
  /** The throwaway client private key authorized for root (and users added by addUser). */
  readonly clientKeyFile: string;
  private readonly hosts = new Map<string, Host>();
  private readonly stateDir: string;
  private stopped = false;
  /** The rootfs dirs this bed's hosts start from (what aptRepository resolves against). */
  private rootfs: PreparedRootfs[] = [];
  /** Servers of aptRepository(), stopped with the bed. */
  private readonly aptServers: ChildProcess[] = [];
  /** Milliseconds the last start() spent per phase (for the curious and for the README). */
  readonly timings: Record<string, number> = {};

  private constructor(id: string) {
    this.id = id;
    this.dir = join(process.env.TMPDIR || tmpdir(), `depc-tb-${id}`);
    this.sshConfigFile = join(this.dir, 'ssh_config');
    this.clientKeyFile = join(this.dir, 'client_ed25519');
    this.stateDir = join(STATE_ROOT, 'beds', id);
  }

  /** Start every host and wait until each accepts ssh. Throws (after cleaning up) on failure. */
  static async start(opts: TestbedOptions): Promise<Testbed> {
    const log = opts.log ?? ((m: string) => console.error(m));
    const pre = testbedPrerequisites({ systemd: opts.hosts.some((h) => h.systemd) });
    if (!pre.ok) throw new Error(`test bed prerequisites missing:\n  ${pre.missing.join('\n  ')}\n${pre.howTo}`);
    validateSpecs(opts.hosts);
    const t0 = Date.now();
    // Leftovers of crashed runs (owner process gone) would hold addresses and names.
    runSync('sh', [CLEANUP_SH, '--stale'], 120_000);
    const debianFs = await ensureRootfs('debian', log);
    const systemdFs = opts.hosts.some((h) => h.systemd) ? await ensureRootfs('systemd', log) : undefined;
    const bed = new Testbed(randomBytes(3).toString('hex'));
    bed.rootfs = systemdFs === undefined ? [debianFs] : [debianFs, systemdFs];
    bed.timings.rootfs = Date.now() - t0;
    live.add(bed);
    installExitHandlers();
    try {
      await bed.init(opts, debianFs, systemdFs);
    } catch (e) {
      if (process.env.DEPC_TESTBED_KEEP) {
        log(`[testbed] DEPC_TESTBED_KEEP: test bed ${bed.id} left running; remove it with cleanup.sh --bed ${bed.id}`);
        live.delete(bed);
      } else {
        await bed.stop().catch(() => {});
      }
      throw e;
    }
    bed.timings.total = Date.now() - t0;
    return bed;
  }

  private record(line: string): void {
    appendFileSync(join(this.stateDir, 'resources'), line + '\n');
  }

  private async init(opts: TestbedOptions, debianFs: PreparedRootfs, systemdFs?: PreparedRootfs): Promise<void> {
    const t0 = Date.now();
    mkdirSync(this.stateDir, { recursive: true });
    // Written atomically: cleanup.sh --stale (run by other test beds' start) skips a bed
    // with no owner file yet and tears down one whose owner process is gone.
    writeFileSync(join(this.stateDir, 'owner.tmp'), `${process.pid} ${procStartTime(process.pid)}\n`);
    renameSync(join(this.stateDir, 'owner.tmp'), join(this.stateDir, 'owner'));
    this.record(`dir ${this.dir}`);
    mkdirSync(join(this.dir, 'known_hosts'), { recursive: true, mode: 0o700 });
    mkdirSync(join(this.dir, 'cm'), { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);

    const addrs = await this.allocateAddresses(opts.hosts.length);
    opts.hosts.forEach((spec, i) => {
      const kind: Kind = spec.systemd ? 'systemd' : spec.userland === 'busybox' ? 'busybox' : 'debian';
      const hdir = join(this.dir, 'hosts', spec.name);
      const idx = addrs[i]!;
      this.hosts.set(spec.name, {
        spec,
        kind,
        name: spec.name,
        address: `${SUBNET}.${idx}`,
        addrIndex: idx,
        netns: `depc-${spec.name}-${this.id}`,
        veth: `depc${this.id}${String(i).padStart(2, '0')}`,
        dir: hdir,
        upper: join(hdir, 'upper'),
        work: join(hdir, 'work'),
        merged: join(hdir, 'merged'),
        hostKeyPub: '',
        initPid: 0,
        launcherPid: 0,
        machine: `depc-${spec.name}-${this.id}`,
        cgroups: [],
      });
    });

    // Keys: the client key and one fresh host key per host, all at once.
    await Promise.all([
      runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `depc-testbed-${this.id}`, '-f', this.clientKeyFile]),
      ...[...this.hosts.values()].map(async (h) => {
        const keyDir = join(h.upper, 'etc/ssh');
        mkdirSync(keyDir, { recursive: true });
        mkdirSync(h.work, { recursive: true });
        mkdirSync(h.merged, { recursive: true });
        const key = join(keyDir, 'ssh_host_ed25519_key');
        await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${h.name}`, '-f', key]);
        h.hostKeyPub = readFileSync(`${key}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
      }),
    ]);
    this.writeSshConfig();
    for (const h of this.hosts.values()) this.prepareUpper(h, debianFs);
    this.timings.prepare = Date.now() - t0;

    const t1 = Date.now();
    await Promise.all(
      [...this.hosts.values()].map(async (h) => {
        await this.createNetwork(h);
        if (h.kind === 'systemd') await this.launchSystemd(h, systemdFs!);
        else await this.launchLight(h, debianFs);
        await this.waitReady(h, opts.readyTimeoutMs ?? (h.kind === 'systemd' ? 90_000 : 60_000));
      }),
    );
    this.timings.hosts = Date.now() - t1;
  }

  private async allocateAddresses(n: number): Promise<number[]> {
    const addrDir = join(STATE_ROOT, 'addrs');
    mkdirSync(addrDir, { recursive: true });
    return withFileLock(join(STATE_ROOT, 'alloc.lock'), async () => {
      if (!existsSync(`/sys/class/net/${BRIDGE}`)) {
        await runOk('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
      }
      await runOk('ip', ['addr', 'replace', `${BRIDGE_ADDR}/24`, 'dev', BRIDGE]);
      await runOk('ip', ['link', 'set', BRIDGE, 'up']);
      const used = new Set(readdirSync(addrDir).map(Number));
      const got: number[] = [];
      for (let i = FIRST_HOST; i <= LAST_HOST && got.length < n; i++) {
        if (used.has(i)) continue;
        writeFileSync(join(addrDir, String(i)), `${this.id} ${process.pid}\n`);
        got.push(i);
      }
      if (got.length < n) throw new Error(`test bed: no free addresses in ${SUBNET}.0/24`);
      return got;
    });
  }

  private writeSshConfig(): void {
    let cfg = `# depc test bed ${this.id}: ssh -F ${this.sshConfigFile} HOST\n`;
    for (const h of this.hosts.values()) {
      const kh = join(this.dir, 'known_hosts', h.name);
      writeFileSync(kh, `${h.name},${h.address} ${h.hostKeyPub}\n`);
      cfg += [
        `Host ${h.name}`,
        `  HostName ${h.address}`,
        '  User root',
        '  Port 22',
        `  IdentityFile ${this.clientKeyFile}`,
        '  IdentitiesOnly yes',
        '  IdentityAgent none',
        `  UserKnownHostsFile ${kh}`,
        '  GlobalKnownHostsFile /dev/null',
        '  StrictHostKeyChecking yes',
        '  CheckHostIP no',
        '  UpdateHostKeys no',
        '  BatchMode yes',
        '  ConnectTimeout 5',
        '  ConnectionAttempts 1',
        '  ServerAliveInterval 5',
        '  ServerAliveCountMax 3',
        '  KexAlgorithms curve25519-sha256',
        '  ControlMaster auto',
        `  ControlPath ${join(this.dir, 'cm')}/%C`,
        '  ControlPersist 60',
        '  LogLevel ERROR',
        '',
      ].join('\n');
    }
    writeFileSync(this.sshConfigFile, cfg);
    for (const h of this.hosts.values()) this.record(`ssh ${this.sshConfigFile} ${h.name}`);
  }

  /** Identity and configuration of a host, written into its upper dir before it starts. */
  private prepareUpper(h: Host, fs: PreparedRootfs): void {
    const up = h.upper;
    const w = (rel: string, content: string, mode = 0o644): void => {
      const p = join(up, rel);
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, content, { mode });
      chmodSync(p, mode);
    };
    w('etc/hostname', `${h.name}\n`);
    w('etc/machine-id', `${randomBytes(16).toString('hex')}\n`, 0o444);
    let hosts = `127.0.0.1\tlocalhost\n127.0.1.1\t${h.name}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
    for (const o of this.hosts.values()) if (o !== h) hosts += `${o.address}\t${o.name}\n`;
    w('etc/hosts', hosts);
    const pub = readFileSync(`${this.clientKeyFile}.pub`, 'utf8');
    mkdirSync(join(up, 'root/.ssh'), { recursive: true, mode: 0o700 });
    chmodSync(join(up, 'root'), 0o700);
    chmodSync(join(up, 'root/.ssh'), 0o700);
    w('root/.ssh/authorized_keys', pub, 0o600);
    // The client key and every host's key, so hosts can ssh to each other by name.
    w('root/.ssh/id_ed25519', readFileSync(this.clientKeyFile, 'utf8'), 0o600);
    w('root/.ssh/id_ed25519.pub', pub, 0o644);
    w(
      'root/.ssh/known_hosts',
      [...this.hosts.values()].map((o) => `${o.name},${o.address} ${o.hostKeyPub}\n`).join(''),
    );
    w('root/.ssh/config', 'Host *\n  StrictHostKeyChecking yes\n  BatchMode yes\n  ConnectTimeout 5\n');
    chmodSync(join(up, 'etc/ssh/ssh_host_ed25519_key'), 0o600);
    const sshd = [
      '# depc test bed',
      'Port 22',
      'ListenAddress 0.0.0.0',
      'HostKey /etc/ssh/ssh_host_ed25519_key',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'AuthorizedKeysFile .ssh/authorized_keys',
      'UsePAM no',
      'UseDNS no',
      'PrintMotd no',
      'MaxStartups 100:30:200',
      'MaxSessions 100',
      'AcceptEnv LANG LC_*',
      'Subsystem sftp internal-sftp',
    ];
    if (h.kind === 'systemd') {
      // Replaces Debian's sshd_config (systemd's ssh.service reads that file).
      w('etc/ssh/sshd_config', sshd.join('\n') + '\n');
      return;
    }
    if (h.kind === 'busybox') {
      // The session is chrooted into a busybox-only root (sshd itself runs from Debian).
      sshd.push(`ChrootDirectory ${BUSYBOX_ROOT}`);
    }
    sshd.push('PidFile /run/sshd.pid');
    w(SSHD_CONFIG.slice(1), sshd.join('\n') + '\n');

    if (h.kind === 'debian' && h.spec.shell && h.spec.shell !== 'dash') {
      // merged /usr: /bin/sh is usr/bin/sh
      mkdirSync(join(up, 'usr/bin'), { recursive: true });
      symlinkSync(h.spec.shell, join(up, 'usr/bin/sh'));
    }
    if (h.kind === 'busybox') {
      const bb = join(up, BUSYBOX_ROOT.slice(1));
      cpSync(fs.busyboxRoot, bb, { recursive: true, verbatimSymlinks: true });
      chmodSync(join(up, 'srv'), 0o755);
      writeFileSync(join(bb, 'etc/hostname'), `${h.name}\n`);
      writeFileSync(join(bb, 'etc/hosts'), hosts);
      // sshd runs the login shell from the outer passwd inside the chroot: /bin/sh there.
      const passwd = readFileSync(join(fs.rootfs, 'etc/passwd'), 'utf8').replace(
        /^root:([^:]*:[^:]*:[^:]*:[^:]*:[^:]*):.*$/m,
        'root:$1:/bin/sh',
      );
      w('etc/passwd', passwd);
    }
  }

  private async createNetwork(h: Host): Promise<void> {
    this.record(`netns ${h.netns}`);
    this.record(`veth ${h.veth}`);
    await runOk('ip', ['netns', 'add', h.netns]);
    await runOk('ip', ['link', 'add', h.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.netns]);
    await runOk('ip', ['link', 'set', h.veth, 'master', BRIDGE, 'up']);
    // Only the test subnet is routed: no default route, so traffic stays on test addresses.
    await runOk('ip', ['-n', h.netns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0']);
    await runOk('ip', ['-n', h.netns, 'link', 'set', 'eth0', 'up']);
    await runOk('ip', ['-n', h.netns, 'link', 'set', 'lo', 'up']);
  }

  private logFile(h: Host): number {
    return openSync(join(h.dir, 'console.log'), 'a');
  }

  /** Debian and busybox hosts: nsenter + unshare + overlay + chroot, sh as PID 1. */
  private async launchLight(h: Host, fs: PreparedRootfs): Promise<void> {
    const script = `
set -eu
M=$1 LOWER=$2 UP=$3 WORK=$4 HN=$5 BB=$6
mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$UP,workdir=$WORK" "$M"
mount -t proc proc "$M/proc"
mount -t sysfs -o ro sysfs "$M/sys"
mount -t tmpfs -o mode=0755,size=16m tmpfs "$M/dev"
for n in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0"; do
  set -- $n
  mknod -m 0666 "$M/dev/$1" c "$2" "$3"
done
mkdir "$M/dev/pts" "$M/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$M/dev/pts"
ln -s pts/ptmx "$M/dev/ptmx"
ln -s /proc/self/fd "$M/dev/fd"
ln -s /proc/self/fd/0 "$M/dev/stdin"
ln -s /proc/self/fd/1 "$M/dev/stdout"
ln -s /proc/self/fd/2 "$M/dev/stderr"
mount -t tmpfs -o mode=1777 tmpfs "$M/dev/shm"
mount -t tmpfs -o mode=0755 tmpfs "$M/run"
mkdir -m 0755 "$M/run/sshd" "$M/run/lock"
mount -t tmpfs -o mode=1777 tmpfs "$M/tmp"
if [ -n "$BB" ]; then
  mount --rbind "$M/dev" "$M$BB/dev"
  mount -t proc proc "$M$BB/proc"
  mount -t tmpfs -o mode=1777 tmpfs "$M$BB/tmp"
fi
hostname "$HN"
exec chroot "$M" /usr/bin/dash -c '/usr/sbin/sshd -f ${SSHD_CONFIG} -E /var/log/depc-sshd.log; while :; do sleep 1000000 & wait; done'
`;
    const out = this.logFile(h);
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${h.netns}`,
        'unshare',
        '--mount',
        '--uts',
        '--ipc',
        '--pid',
        '--fork',
        '--kill-child',
        '--propagation',
        'private',
        'sh',
        '-c',
        script,
        'sh',
        h.merged,
        fs.rootfs,
        h.upper,
        h.work,
        h.name,
        h.kind === 'busybox' ? BUSYBOX_ROOT : '',
      ],
      { detached: true, stdio: ['ignore', out, out], env: { PATH: HOST_PATH, LC_ALL: 'C' } },
    );
    closeSync(out);
    child.unref();
    const pid = child.pid!;
    h.launcherPid = pid;
    this.record(`proc ${pid} ${procStartTime(pid)}`);
    // unshare --fork: its child becomes the host's PID 1.
    for (let i = 0; i < 400; i++) {
      const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      if (kids) {
        h.initPid = Number(kids.split(' ')[0]);
        this.record(`init ${h.initPid} ${procStartTime(h.initPid)}`);
        return;
      }
      if (!isAlive(pid)) break;
      await sleep(5);
    }
    throw new Error(`host ${h.name} did not start:\n${this.console(h.name)}`);
  }

  /** The systemd host: systemd-nspawn -b in its own mount namespace and cgroups. */
  private async launchSystemd(h: Host, fs: PreparedRootfs): Promise<void> {
    // Own cgroup directories, or two containers would share one.
    const cgs = existsSync('/sys/fs/cgroup/cgroup.controllers')
      ? [`/sys/fs/cgroup/${h.machine}`]
      : [`/sys/fs/cgroup/unified/${h.machine}`, `/sys/fs/cgroup/systemd/${h.machine}`].filter((p) =>
          existsSync(join(p, '..')),
        );
    for (const cg of cgs) {
      this.record(`cgroup ${cg}`);
      mkdirSync(cg, { recursive: true });
    }
    h.cgroups = cgs;
    this.record(`machine ${h.machine}`);
    const script = `
set -eu
M=$1 LOWER=$2 UP=$3 WORK=$4 HN=$5 MACHINE=$6 NS=$7
shift 7
for cg in "$@"; do echo $$ >"$cg/cgroup.procs"; done
mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$UP,workdir=$WORK" "$M"
exec systemd-nspawn -q -D "$M" -b -M "$MACHINE" --hostname="$HN" --register=no --keep-unit \\
  --network-namespace-path="/run/netns/$NS" --console=passive
`;
    const out = this.logFile(h);
    const child = spawn(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        script,
        'sh',
        h.merged,
        fs.rootfs,
        h.upper,
        h.work,
        h.name,
        h.machine,
        h.netns,
        ...cgs,
      ],
      { detached: true, stdio: ['ignore', out, out], env: { PATH: HOST_PATH, LC_ALL: 'C' } },
    );
    closeSync(out);
    child.unref();
    const pid = child.pid!;
    h.launcherPid = pid;
    this.record(`nspawn ${pid} ${procStartTime(pid)}`);
  }

  /** The container's init (PID 1 inside): the descendant of nspawn in another PID namespace. */
  private findContainerInit(h: Host): number | undefined {
    const own = pidNs(h.launcherPid);
    const queue = [h.launcherPid];
    while (queue.length) {
      const p = queue.shift()!;
      for (const c of childrenOf(p)) {
        const ns = pidNs(c);
        if (ns && own && ns !== own) return c;
        queue.push(c);
      }
    }
    return undefined;
  }

  private async waitReady(h: Host, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // On a loaded machine sshd's per-connection re-exec can take seconds:
    // each attempt waits longer than the last (1 s, 2 s, … up to 8 s).
    let attempt = 1000;
    while (Date.now() < deadline) {
      if (!isAlive(h.launcherPid)) {
        throw new Error(`host ${h.name} exited while starting:\n${this.console(h.name)}`);
      }
      const banner = await sshBanner(h.address, Math.min(attempt, Math.max(500, deadline - Date.now())));
      attempt = Math.min(attempt * 2, 8000);
      if (banner) {
        const r = await this.exec(h.name, 'true', { timeoutMs: 15_000 });
        if (r.code === 0) {
          if (h.kind === 'systemd') h.initPid = this.findContainerInit(h) ?? 0;
          return;
        }
        if (!/Connection (refused|reset|closed)|kex_exchange/.test(r.stderr)) {
          throw new Error(`ssh to ${h.name} failed: ${r.stderr}\n${this.console(h.name)}`);
        }
      }
      await sleep(50);
    }
    throw new Error(`host ${h.name}: sshd not reachable after ${timeoutMs} ms\n${this.console(h.name)}`);
  }

  private host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no test host named ${JSON.stringify(name)} (have: ${[...this.hosts.keys()].join(', ')})`);
    if (this.stopped) throw new Error('the test bed is stopped');
    return h;
  }

  /** Names of the hosts, in the order given to start(). */
  get hostNames(): string[] {
    return [...this.hosts.keys()];
  }

  /** The host's address on the test subnet. */
  address(name: string): string {
    return this.host(name).address;
  }

  /** The host's network namespace (`ip netns exec NAME ...`). */
  netns(name: string): string {
    return this.host(name).netns;
  }

  /**
   * The host's overlay upper dir: every file the host created or changed, at its path.
   * For a busybox host this is the upper dir of its busybox root (what the ssh session sees).
   */
  upperDir(name: string): string {
    const h = this.host(name);
    return h.kind === 'busybox' ? join(h.upper, BUSYBOX_ROOT.slice(1)) : h.upper;
  }

  /** Arguments for ssh/scp/sftp/rsync -e: `['-F', sshConfigFile]`. */
  get sshArgs(): string[] {
    return ['-F', this.sshConfigFile];
  }

  /** Run a shell command on the host over real ssh (root unless opts.user). */
  async exec(name: string, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.host(name);
    const target = opts.user ? `${opts.user}@${name}` : name;
    return run('ssh', ['-F', this.sshConfigFile, ...(opts.sshOptions ?? []), target, '--', command], {
      input: opts.input,
      timeoutMs: opts.timeoutMs ?? 120_000,
    });
  }

  /** Copy local files to the host with scp (over the same ssh config). */
  async copyTo(name: string, localPaths: string | string[], remotePath: string, opts: { user?: string } = {}): Promise<void> {
    this.host(name);
    const target = opts.user ? `${opts.user}@${name}` : name;
    const srcs = Array.isArray(localPaths) ? localPaths : [localPaths];
    await runOk('scp', ['-F', this.sshConfigFile, '-q', ...srcs, `${target}:${remotePath}`], { timeoutMs: 120_000 });
  }

  /**
   * Run a shell script as root inside the host's namespaces without ssh (nsenter). On a
   * busybox host this is the Debian root that runs sshd (the busybox root is at
   * /srv/depc-busybox there); on a systemd host it is the container.
   */
  async rootExec(name: string, script: string, opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    const h = this.host(name);
    if (!h.initPid || !isAlive(h.initPid)) throw new Error(`host ${name} is not running`);
    return run('nsenter', ['-t', String(h.initPid), '-a', '-r', '-w', '/bin/sh', '-c', script], {
      input: opts.input,
      timeoutMs: opts.timeoutMs ?? 120_000,
      env: { PATH: HOST_PATH, HOME: '/root', LC_ALL: 'C' },
    });
  }

  /**
   * Stop the host's sshd and every ssh session on it (the host stays up). New ssh
   * connections then fail at once with "Connection refused" (exit 255).
   */
  async stopSshd(name: string): Promise<void> {
    const h = this.host(name);
    await run('ssh', ['-F', this.sshConfigFile, '-O', 'exit', name], { timeoutMs: 5000 });
    if (h.kind === 'systemd') {
      await run('nsenter', ['-t', String(h.initPid), '-a', '-r', '-w', 'systemctl', 'stop', 'ssh.socket', 'ssh.service'], {
        env: { PATH: HOST_PATH },
        timeoutMs: 30_000,
      });
    }
    // The listener and the per-connection sshd processes, found in this host's PID namespace.
    const ns = pidNs(h.initPid);
    for (let round = 0; round < 100; round++) {
      const pids = readdirSync('/proc')
        .filter((e) => /^\d+$/.test(e))
        .map(Number)
        .filter((p) => {
          try {
            return pidNs(p) === ns && p !== h.initPid && readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sshd';
          } catch {
            return false;
          }
        });
      if (pids.length === 0) return;
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await sleep(20);
    }
    throw new Error(`could not stop sshd on ${name}`);
  }

  /** Start the host's sshd again (after stopSshd) and wait until it accepts ssh. */
  async startSshd(name: string, timeoutMs = 30_000): Promise<void> {
    const h = this.host(name);
    const cmd = h.kind === 'systemd' ? 'systemctl start ssh.service' : `/usr/sbin/sshd -f ${SSHD_CONFIG} -E /var/log/depc-sshd.log`;
    const r = await this.rootExec(name, cmd);
    if (r.code !== 0) throw new Error(`starting sshd on ${name} failed: ${r.stderr}`);
    await this.waitReady(h, timeoutMs);
  }

  /**
   * Add a non-root user who can log in with the test bed's client key
   * (`bed.exec(host, cmd, { user })`, `ssh -F cfg user@host`), optionally with NOPASSWD sudo.
   * On a busybox host the user exists in both the outer passwd (for sshd) and the busybox
   * root; sudo is not available there.
   */
  async addUser(name: string, user: string, opts: AddUserOptions = {}): Promise<void> {
    const h = this.host(name);
    if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(user)) throw new Error(`bad user name ${JSON.stringify(user)}`);
    const shell = opts.shell ?? '/bin/sh';
    const sudo = opts.sudo === 'nopasswd';
    if (sudo && h.kind === 'busybox') throw new Error('busybox hosts have no sudo');
    const q = shellQuote(user);
    let script = `set -eu
id -u ${q} >/dev/null 2>&1 || useradd -m -U -s ${shellQuote(shell)} ${q}
# '*': no password, but not locked ('!' locks the account for sshd with UsePAM no)
usermod -p '*' ${q}
home=$(getent passwd ${q} | cut -d: -f6)
install -d -m 0700 -o ${q} -g ${q} "$home/.ssh"
install -m 0600 -o ${q} -g ${q} /root/.ssh/authorized_keys "$home/.ssh/authorized_keys"
`;
    if (sudo) {
      script += `printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\\n' ${q} >/etc/sudoers.d/depc-${user}
chmod 0440 /etc/sudoers.d/depc-${user}
`;
    }
    if (h.kind === 'busybox') {
      script += `B=${BUSYBOX_ROOT}
getent passwd ${q} | awk -F: -v OFS=: '{ $7 = "/bin/sh"; print }' >>"$B/etc/passwd"
getent group ${q} >>"$B/etc/group"
install -d -m 0755 -o ${q} -g ${q} "$B$home"
`;
    }
    const r = await this.rootExec(name, script);
    if (r.code !== 0) throw new Error(`addUser ${user} on ${name} failed: ${r.stderr}`);
  }

  /** What the host's launcher printed (mount errors, systemd boot messages). */
  console(name: string): string {
    const h = this.hosts.get(name);
    if (!h) return '';
    let s = '';
    for (const f of [join(h.dir, 'console.log'), join(h.upper, 'var/log/depc-sshd.log')]) {
      try {
        s += `--- ${f}\n${readFileSync(f, 'utf8').slice(-4000)}`;
      } catch {
        /* not there */
      }
    }
    return s;
  }

  /** The pids this test bed started (launchers and the hosts' PID 1), for leak checks. */
  get pids(): number[] {
    return [...this.hosts.values()].flatMap((h) => [h.launcherPid, h.initPid]).filter((p) => p > 0);
  }

  /**
   * A local apt repository of `packages` and their dependencies (resolved against the
   * rootfs of this bed's hosts), downloaded on this machine once and cached, served over
   * HTTP from the bridge address until the bed stops. Give hosts its `sourcesListLine`
   * as a File of the test's model (`/etc/apt/sources.list.d/depc-test.list`), then
   * `apt-get update` (Package does it when it installs). See README.md.
   */
  async aptRepository(packages: readonly string[] = APT_REPO_PACKAGES): Promise<AptRepository> {
    const t0 = Date.now();
    const set = await ensureAptSet(packages, this.rootfs, (m) => console.error(m));
    const t1 = Date.now();
    const address = `${SUBNET}.1`;
    const { child, port } = await serveDirectory(set.dir, address);
    this.aptServers.push(child);
    const url = `http://${address}:${port}/`;
    return {
      sourcesListLine: `deb [trusted=yes] ${url} ./`,
      url,
      dir: set.dir,
      versions: repositoryVersions(set.dir),
      built: set.built,
      timings: { make: set.built ? t1 - t0 : 0, serve: Date.now() - t1 },
    };
  }

  private stopAptServers(): void {
    for (const child of this.aptServers.splice(0)) child.kill('SIGKILL');
  }

  /**
   * Stop every host and remove every namespace, veth, cgroup dir, address and temp dir of
   * this test bed. Idempotent; also runs on process exit and SIGINT/SIGTERM/SIGHUP.
   */
  async stop(): Promise<void> {
    // Async wrapper: the teardown is one `cleanup.sh --bed ID` (shared with crash cleanup).
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    this.stopAptServers();
    const r = await run('sh', [CLEANUP_SH, '--bed', this.id], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`test bed ${this.id} cleanup incomplete:\n${r.stderr}`);
  }

  /** Synchronous stop, for exit handlers. */
  stopSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    this.stopAptServers();
    runSync('sh', [CLEANUP_SH, '--bed', this.id], 120_000);
  }
}

function validateSpecs(specs: HostSpec[]): void {
  const seen = new Set<string>();
  for (const s of specs) {
    if (!/^[a-z][a-z0-9-]{0,19}$/.test(s.name)) throw new Error(`bad test host name ${JSON.stringify(s.name)}`);
    if (seen.has(s.name)) throw new Error(`duplicate test host name ${s.name}`);
    seen.add(s.name);
    if (s.systemd && s.userland === 'busybox') throw new Error(`${s.name}: systemd and busybox userland do not mix`);
    if (s.shell && (s.systemd || s.userland === 'busybox')) {
      throw new Error(`${s.name}: shell is only for plain Debian hosts`);
    }
  }
  if (specs.length > 50) throw new Error('at most 50 hosts per test bed');
}

/** Connect to addr:22 and wait for the SSH banner. */
function sshBanner(addr: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: addr, port: 22 });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.includes('SSH-')) done(true);
    });
    sock.on('error', () => done(false));
    sock.on('close', () => done(false));
  });
}

