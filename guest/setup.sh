#!/usr/bin/env bash
# Prepare everything guest/run.sh needs: host packages, a Debian generic amd64
# kernel (unpacked into a cache outside the repository) and a small busybox
# initramfs with the modules for 9p, overlayfs and the vsock loopback transport.
#
# Idempotent: a second run only checks what is already there.
# On success it prints three lines on stdout (everything else goes to stderr):
#   KVER=<kernel release>  KERNEL=<path to vmlinuz>  INITRD=<path to initramfs>
#
# Environment:
#   VSOCK4J_GUEST_CACHE   cache directory (default: $HOME/.cache/vsock4j-guest)
#   VSOCK4J_GUEST_KERNEL  kernel to use: a release, e.g. 6.1.0-41-amd64, or a
#                         series, e.g. 6.1 or 6.12 (bookworm-security serves
#                         6.12 as linux-image-6.12-amd64): the release that
#                         series' metapackage names, remembered per series
#                         (default: the one already cached, else the one the
#                         linux-image-amd64 metapackage depends on)
#   Several kernels live side by side in the cache (linux-<release>/ and an
#   initramfs each), so runs on 6.1 and 6.12 do not evict each other.
set -euo pipefail
exec 3>&1 1>&2

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${VSOCK4J_GUEST_CACHE:-$HOME/.cache/vsock4j-guest}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# One setup at a time per cache (parallel run.sh invocations).
exec 9>"$cache/.lock"
flock 9

SUDO= apt_download=(apt-get download -qq)
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else apt_download+=(-o APT::Sandbox::User=root); fi

# ---- host packages -------------------------------------------------------
packages=(qemu-system-x86 busybox-static cpio kmod ncat socat python3 zstd xz-utils)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
    missing+=("$p")
  fi
done
apt_updated=
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  $SUDO apt-get update -qq
  apt_updated=1
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ---- kernel --------------------------------------------------------------
update_lists() { [ -n "$apt_updated" ] && return 1; $SUDO apt-get update -qq; apt_updated=1; }
# The release a metapackage currently depends on: linux-image-amd64 (the default), or for a series
# (VSOCK4J_GUEST_KERNEL=6.12) linux-image-6.12-amd64, else linux-image-amd64 when its release is one
# of that series (bookworm has no linux-image-6.1-amd64).
meta_release() {
  apt-cache depends "$1" 2>/dev/null \
    | sed -n 's/^ *Depends: linux-image-\([0-9].*-amd64\)$/\1/p' | head -n1
}
pick_kernel() {
  local series=$1 r
  if [ -z "$series" ]; then meta_release linux-image-amd64; return; fi
  r=$(meta_release "linux-image-$series-amd64")
  [ -n "$r" ] || r=$(meta_release linux-image-amd64)
  case $r in "$series".*|"$series"-*) echo "$r" ;; esac
}
want=${VSOCK4J_GUEST_KERNEL:-}
series=
case $want in
  '') ;;
  *-amd64) ;;
  [0-9]*.[0-9]*) series=$want; want= ;;
  *) echo "setup.sh: VSOCK4J_GUEST_KERNEL must be a release (6.1.0-41-amd64) or a series (6.12): '$want'"; exit 2 ;;
esac
# What was picked before, per series ("kernel-release" for the default, as older setups wrote it).
remembered=$cache/kernel-release${series:+-$series}
kver=$want
if [ -z "$kver" ] && [ -f "$remembered" ]; then
  kver=$(cat "$remembered")
fi
if [ -z "$kver" ]; then
  kver=$(pick_kernel "$series")
  if [ -z "$kver" ] && update_lists; then kver=$(pick_kernel "$series"); fi
  [ -n "$kver" ] || { echo "setup.sh: apt knows no kernel for '${series:-linux-image-amd64}'"; exit 1; }
fi
kdir=$cache/linux-$kver
if [ ! -f "$kdir/.complete" ]; then
  dl=$(mktemp -d "${TMPDIR:-/tmp}/vsock4j-kernel.XXXXXX")
  trap 'rm -rf "$dl"' EXIT
  chmod 755 "$dl"
  echo "setup.sh: downloading linux-image-$kver"
  if ! (cd "$dl" && "${apt_download[@]}" "linux-image-$kver"); then
    # Stale package lists: refresh, and re-pick the version unless pinned.
    update_lists || exit 1
    if [ -z "$want" ]; then
      kver=$(pick_kernel "$series"); kdir=$cache/linux-$kver
      echo "setup.sh: downloading linux-image-$kver"
    fi
    (cd "$dl" && "${apt_download[@]}" "linux-image-$kver")
  fi
  rm -rf "$kdir"
  mkdir -p "$kdir"
  dpkg-deb -x "$dl"/linux-image-"$kver"_*.deb "$kdir"
  rm -rf "$dl"; trap - EXIT
  depmod -b "$kdir" "$kver"
  touch "$kdir/.complete"
fi
if [ -z "$want" ]; then
  echo "$kver" > "$remembered.tmp" && mv "$remembered.tmp" "$remembered"
fi
kernel=$kdir/boot/vmlinuz-$kver
moddir=$kdir/lib/modules/$kver
[ -f "$kernel" ] || { echo "setup.sh: $kernel missing"; exit 1; }

# Under TCG, decompressing the bzImage (xz) takes ~3.5 s of every boot. A
# kernel built with CONFIG_PVH can instead be booted by QEMU as the plain ELF
# vmlinux (PVH entry point), so unpack that once.
if grep -q '^CONFIG_PVH=y' "$kdir/boot/config-$kver" 2>/dev/null; then
  if [ ! -f "$kdir/vmlinux" ] && [ ! -f "$kdir/vmlinux.none" ]; then
    if python3 - "$kernel" "$kdir/vmlinux.tmp" <<'PY'
import lzma, subprocess, sys, zlib
data = open(sys.argv[1], 'rb').read()
# Debian's 6.1 compresses with xz, its 6.12 with zstd (no stdlib module: the zstd tool, whose
# complaint about the bytes after the frame is ignored as long as an ELF image came out).
def unzstd(b):
    return subprocess.run(['zstd', '-dcq'], input=b, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
for magic, unpack in ((b'\xfd7zXZ\x00', lambda b: lzma.LZMADecompressor().decompress(b)),
                      (b'\x1f\x8b\x08', lambda b: zlib.decompressobj(31).decompress(b)),
                      (b'\x28\xb5\x2f\xfd', unzstd)):
    i = data.find(magic)
    while i >= 0:
        try:
            out = unpack(data[i:])
            if out[:4] == b'\x7fELF':
                open(sys.argv[2], 'wb').write(out)
                sys.exit(0)
        except Exception:
            pass
        i = data.find(magic, i + 1)
sys.exit(1)
PY
    then :; fi
    if [ -s "$kdir/vmlinux.tmp" ]; then
      mv "$kdir/vmlinux.tmp" "$kdir/vmlinux"
    else
      rm -f "$kdir/vmlinux.tmp"; echo "setup.sh: could not unpack vmlinux; booting the bzImage"
      touch "$kdir/vmlinux.none"
    fi
  fi
  [ -f "$kdir/vmlinux" ] && kernel=$kdir/vmlinux
fi

# ---- initramfs -----------------------------------------------------------
# Modules loaded by /init before the root file system exists. Their
# dependencies come from modules.dep; built-in ones are skipped.
wanted=(virtio_pci 9pnet_virtio 9p overlay vsock vmw_vsock_virtio_transport_common vsock_loopback)

stamp=$( { echo "$kver"; echo "${wanted[*]}"; cat "$here/setup.sh" "$here/init"; } | sha256sum | cut -c1-16)
initrd=$cache/initramfs-$kver-$stamp.cpio.gz
if [ ! -f "$initrd" ]; then
  echo "setup.sh: building $initrd"
  busybox=$(command -v busybox || echo /bin/busybox)
  # busybox-static's binary must be static: it runs alone in the initramfs.
  if ldd "$busybox" >/dev/null 2>&1; then
    echo "setup.sh: $busybox is not static (install busybox-static)"; exit 1
  fi
  root=$(mktemp -d "$cache/.initramfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,lower,upper,newroot,etc} "$root/lib/modules/$kver"
  cp "$busybox" "$root/bin/busybox"
  install -m 755 "$here/init" "$root/init"
  : > "$root/etc/modules.load"
  declare -A seen=()
  # modules.dep lines: "kernel/path/a.ko[.xz]: kernel/path/dep1.ko ..."
  # (dependencies are listed so that the last one must be loaded first).
  add_module() { # $1 = path relative to moddir, as in modules.dep
    local rel=$1 deps d
    [ -n "${seen[$rel]:-}" ] && return 0
    seen[$rel]=1
    deps=$(awk -v m="$rel:" '$1 == m { for (i = NF; i > 1; i--) print $i }' "$moddir/modules.dep")
    for d in $deps; do add_module "$d"; done
    local out=${rel%.xz}; out=${out%.zst}; out=${out%.gz}
    mkdir -p "$(dirname "$root/lib/modules/$kver/$out")"
    case "$rel" in
      *.xz)  xz -dc   "$moddir/$rel" > "$root/lib/modules/$kver/$out" ;;
      *.zst) zstd -qdc "$moddir/$rel" > "$root/lib/modules/$kver/$out" ;;
      *.gz)  gzip -dc "$moddir/$rel" > "$root/lib/modules/$kver/$out" ;;
      *)     cp "$moddir/$rel" "$root/lib/modules/$kver/$out" ;;
    esac
    echo "$out" >> "$root/etc/modules.load"
  }
  for m in "${wanted[@]}"; do
    rel=$(awk -v m="$m" '{ p = $1; sub(/:$/, "", p); n = p; sub(/.*\//, "", n); sub(/\.ko.*/, "", n);
                           gsub(/-/, "_", n); if (n == m) { print p; exit } }' "$moddir/modules.dep")
    if [ -n "$rel" ]; then
      add_module "$rel"
    elif grep -Eq "/${m//_/[-_]}\.ko" "$moddir/modules.builtin"; then
      echo "setup.sh: $m is built in"
    else
      echo "setup.sh: module $m not found in $kver"; exit 1
    fi
  done
  cp "$moddir"/modules.builtin* "$root/lib/modules/$kver/" 2>/dev/null || true
  cp "$root/etc/modules.load" "$root/lib/modules/$kver/modules.order"
  depmod -b "$root" "$kver"
  echo "$kver" > "$root/etc/kernel-release"
  echo "setup.sh: initramfs modules: $(sed 's#.*/##; s#\.ko$##' "$root/etc/modules.load" | tr '\n' ' ')"
  (cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -9) > "$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  rm -rf "$root"; trap - EXIT
  # Drop this kernel's initramfs images of older setups (other kernels keep theirs).
  for f in "$cache"/initramfs-"$kver"-*.cpio.gz; do [ "$f" = "$initrd" ] || rm -f "$f"; done
  echo "setup.sh: initramfs size $(du -h "$initrd" | cut -f1)"
fi

printf 'KVER=%s\nKERNEL=%s\nINITRD=%s\nMODDIR=%s\n' "$kver" "$kernel" "$initrd" "$moddir" >&3
