// What the test bed needs on this machine, and how to get it.
import { existsSync, readFileSync } from 'node:fs';
import { haveCommand } from './run.js';

/** apt packages the test bed needs on the machine (CI installs exactly these). */
export const APT_PACKAGES = ['debootstrap', 'systemd-container', 'openssh-client', 'iproute2', 'util-linux'] as const;

const COMMANDS: Array<[cmd: string, pkg: string, systemdOnly?: boolean]> = [
  ['debootstrap', 'debootstrap'],
  ['systemd-nspawn', 'systemd-container', true],
  ['ssh', 'openssh-client'],
  ['scp', 'openssh-client'],
  ['ssh-keygen', 'openssh-client'],
  ['ip', 'iproute2'],
  ['nsenter', 'util-linux'],
  ['unshare', 'util-linux'],
  ['flock', 'util-linux'],
  ['chroot', 'coreutils'],
];

export interface Prerequisites {
  ok: boolean;
  /** One line per missing thing. */
  missing: string[];
  /** apt packages to install for what is missing. */
  aptPackages: string[];
  /** How to run the e2e tests that need the test bed. */
  howTo: string;
}

/** Report what the test bed lacks on this machine: root, commands (apt packages), overlayfs, netns. */
export function testbedPrerequisites(opts: { systemd?: boolean } = {}): Prerequisites {
  const needSystemd = opts.systemd ?? true;
  const missing: string[] = [];
  const pkgs = new Set<string>();
  if (process.platform !== 'linux') missing.push(`Linux (this is ${process.platform})`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) missing.push('root (run the tests as root)');
  for (const [cmd, pkg, systemdOnly] of COMMANDS) {
    if (systemdOnly && !needSystemd) continue;
    if (!haveCommand(cmd)) {
      missing.push(`command ${cmd} (apt package ${pkg})`);
      pkgs.add(pkg);
    }
  }
  let fss = '';
  try {
    fss = readFileSync('/proc/filesystems', 'utf8');
  } catch {
    /* not linux */
  }
  if (!/\boverlay\b/.test(fss) && !existsSync('/sys/module/overlay')) missing.push('overlayfs (modprobe overlay)');
  if (!existsSync('/proc/self/ns/net') || !existsSync('/proc/self/ns/pid')) missing.push('network/PID namespaces');
  if (needSystemd && !existsSync('/sys/fs/cgroup/cgroup.controllers') && !existsSync('/sys/fs/cgroup/unified')) {
    missing.push('a cgroup v2 hierarchy (/sys/fs/cgroup or /sys/fs/cgroup/unified) for systemd-nspawn');
  }
  const aptPackages = [...pkgs];
  const howTo =
    'The test bed runs real sshd/systemd hosts in network namespaces: run the e2e tests as root on Linux ' +
    `with: apt-get install -y ${APT_PACKAGES.join(' ')}` +
    ' (the first run builds a Debian rootfs with debootstrap from the apt mirror: about a minute).';
  return { ok: missing.length === 0, missing, aptPackages, howTo };
}
