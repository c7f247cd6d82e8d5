#!/usr/bin/env bash
# Installs, from Debian 12's packages, everything xicept needs to build, test,
# demo and benchmark. Idempotent: packages already present are skipped, and
# apt is only consulted when something is missing.
set -euo pipefail

pkgs=(
  # build
  make gcc clang llvm pkg-config libbpf-dev libelf-dev zlib1g-dev bpftool
  libxdp-dev liburcu-dev libjansson-dev libpcap-dev libmicrohttpd-dev
  libsrtp2-dev libssl-dev   # SRTP (libsrtp2), base64 and key wiping (OpenSSL)
  libnl-route-3-dev         # the engine's delivery veth over rtnetlink
  # tests
  libcmocka-dev valgrind libclang-rt-14-dev iproute2 util-linux procps jq python3 tshark
  curl prometheus   # /metrics scraped and checked with promtool
  # real RTP peers for integration tests and the demo
  ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  # real SRTP peers (t92): GStreamer's srtpenc/srtpdec driven from python3-gi,
  # and pion's DTLS-SRTP and SRTP stacks
  gstreamer1.0-plugins-bad python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0
  golang-github-pion-dtls.v2-dev golang-github-pion-srtp.v2-dev golang-github-pion-rtp-dev
  golang-github-pion-rtcp-dev
  # pion peer for benchmarks
  golang-go golang-github-pion-interceptor-dev
  # plots of make bench
  gnuplot-nox
  # perf stat / record in the bench's breakdowns
  linux-perf
  # xicept as a service: sd_notify, systemd-analyze verify of the unit, the
  # DaemonSet example's YAML check
  libsystemd-dev systemd python3-yaml
)

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: must run as root to install packages" >&2
  exit 1
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
