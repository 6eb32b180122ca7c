#!/bin/sh
# Build one test-bed root filesystem (run as root, called by rootfs.ts under a lock).
#
#   build-rootfs.sh DEST MIRROR SUITE KIND PACKAGE...
#
# DEST must not exist (rootfs.ts passes a temporary directory and renames it when this
# script succeeds). MIRROR is read at run time from the machine's apt configuration and
# never written into the repository. KIND is "debian" or "systemd": for "debian" a
# busybox-only root is also prepared next to the rootfs (DEST/busybox-root).
set -eu
DEST=$1 MIRROR=$2 SUITE=$3 KIND=$4
shift 4
ROOT=$DEST/rootfs
mkdir -p "$DEST"
echo "== debootstrap --variant=minbase $SUITE" >&2
debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$DEST/debootstrap.log" 2>&1 || {
  tail -n 30 "$DEST/debootstrap.log" >&2; exit 1; }

echo "== apt-get install $*" >&2
# apt-get inside the chroot, in a private mount namespace (its /proc and /dev mounts go
# away with the namespace), with a policy-rc.d that forbids starting any service.
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
unshare --mount --propagation private sh -eu -c '
  ROOT=$1; shift
  mount -t proc proc "$ROOT/proc"
  mount --rbind /dev "$ROOT/dev"
  export DEBIAN_FRONTEND=noninteractive LC_ALL=C
  chroot "$ROOT" apt-get update -qq
  chroot "$ROOT" apt-get install -y -qq --no-install-recommends "$@"
  chroot "$ROOT" apt-get clean
' sh "$ROOT" "$@" >"$DEST/apt.log" 2>&1 || { tail -n 40 "$DEST/apt.log" >&2; exit 1; }
rm -f "$ROOT/usr/sbin/policy-rc.d" "$ROOT/etc/resolv.conf"
: >"$ROOT/etc/resolv.conf"
# Never share host keys between hosts: each test host gets a fresh key at start.
rm -f "$ROOT"/etc/ssh/ssh_host_*
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin
# Record what was installed (useful when a test wonders about a version).
chroot "$ROOT" dpkg-query -W -f '${Package} ${Version}\n' >"$DEST/packages.txt"

if [ "$KIND" = debian ]; then
  echo "== busybox-only root" >&2
  BB=$DEST/busybox-root
  mkdir -p "$BB/bin" "$BB/sbin" "$BB/usr/bin" "$BB/usr/sbin" "$BB/etc" "$BB/root" \
    "$BB/tmp" "$BB/dev" "$BB/proc" "$BB/home" "$BB/var/tmp" "$BB/run"
  chmod 1777 "$BB/tmp" "$BB/var/tmp"
  chmod 0700 "$BB/root"
  # busybox-static: no shared libraries needed inside this root.
  cp "$ROOT/usr/bin/busybox" "$BB/bin/busybox"
  chroot "$BB" /bin/busybox --install -s
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$BB/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$BB/etc/group"
  if [ -e "$BB/usr/bin/bash" ] || [ -e "$BB/bin/bash" ]; then echo "bash in busybox root" >&2; exit 1; fi
fi
echo "== done" >&2
