#!/bin/sh
# Download the .deb files a test host needs to install PACKAGE... (run as root, called by
# apt.ts under the pool's lock).
#
#   download-debs.sh ROOTFS POOL WORK PACKAGE...
#
# The dependencies are resolved against ROOTFS, a cached test rootfs (what every test
# host starts from): an overlay of it (upper in WORK, so the cache is never written) in a
# private mount namespace, where apt-get update and apt-get install --download-only run
# with the rootfs' own sources.list (the machine's apt mirror) and the machine's
# resolv.conf. The .deb files go straight into POOL (bind-mounted as apt's archive
# directory: files already there are not downloaded again). WORK/install.txt gets the
# simulated install's "Inst" lines (what the set is made of).
set -eu
ROOTFS=$1 POOL=$2 WORK=$3
shift 3
mkdir -p "$WORK/upper" "$WORK/work" "$WORK/merged" "$POOL/partial"
unshare --mount --propagation private sh -eu -c '
  ROOTFS=$1 POOL=$2 WORK=$3
  shift 3
  M=$WORK/merged
  mount -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=$WORK/upper,workdir=$WORK/work" "$M"
  mount -t proc proc "$M/proc"
  mount --rbind /dev "$M/dev"
  mount --bind "$POOL" "$M/var/cache/apt/archives"
  cat /etc/resolv.conf >"$M/etc/resolv.conf"
  export DEBIAN_FRONTEND=noninteractive LC_ALL=C
  apt="chroot $M apt-get -o APT::Sandbox::User=root"
  $apt update -qq
  $apt install -s --no-install-recommends "$@" | grep "^Inst " >"$WORK/install.txt" || :
  $apt install -y -qq --download-only --no-install-recommends "$@"
' sh "$ROOTFS" "$POOL" "$WORK" "$@" >"$WORK/apt.log" 2>&1 || { tail -n 30 "$WORK/apt.log" >&2; exit 1; }
