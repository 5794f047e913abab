#!/usr/bin/env bash
# capture/setup.sh: installs what the capture tests and the golden-trace recorder need on this host:
# tshark (the capture tests dissect every pcap vsock4j writes with Wireshark's vsock dissector) and
# tcpdump (record-golden.sh runs it inside the QEMU guest, which sees the host's / read-only); and curl,
# the real HTTP client of the vsock proxy tests (ProxyCurlTest, ProxyLauncherIT).
#
# Idempotent: when both are installed it only checks (dpkg-query) and returns; apt-get update runs
# only when something is missing. CI starts on a fresh machine, so ./run-tests calls this before Maven.
set -euo pipefail
packages=(tshark tcpdump curl)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "capture/setup.sh: installing ${missing[*]}" >&2
$SUDO apt-get update -qq >&2
# wireshark-common asks whether non-root users may capture; the answer does not matter here.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
