# shellcheck shell=bash
# Sourced by t92_srtp.sh after lib.sh and lib_engine.sh: the two real SRTP
# stacks of the testbed and their keys.
#   - srtp_peer (tests/integration/srtp_peer, Go: pion/dtls, pion/srtp,
#     pion/rtp, pion/rtcp from Debian's packages, built offline here);
#   - srtp_gst.py (GStreamer's srtpenc/srtpdec, libsrtp2 underneath, through
#     python3-gi; Python only sends srtpenc's output and reads what srtpdec
#     passed).

SRTP_PEER=$T_BUILD/tests/srtp_peer
SRTP_GST=$T_ROOT/tests/integration/srtp_gst.py
GST_PY=/usr/bin/python3   # Debian's, which python3-gi is for (PATH may find another)

# srtp_peer_build: the Go peer, GOPATH mode over /usr/share/gocode, no
# network (GOPROXY=off), into build/tests; rebuilt when main.go is newer.
srtp_peer_build() {
  local src=$T_ROOT/tests/integration/srtp_peer
  [[ -x $SRTP_PEER && ! $src/main.go -nt $SRTP_PEER ]] && return 0
  command -v go >/dev/null || fail "go is missing (scripts/deps.sh installs golang-go)"
  for p in dtls/v2 srtp/v2 rtp rtcp; do
    [ -d "/usr/share/gocode/src/github.com/pion/$p" ] ||
      fail "pion/$p is missing (scripts/deps.sh installs it)"
  done
  mkdir -p "$(dirname "$SRTP_PEER")"
  (cd "$src" && GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS='' \
    GOCACHE=$T_BUILD/gocache go build -o "$SRTP_PEER" .) >"$T_TMP/go-build.log" 2>&1 ||
    fail "cannot build srtp_peer: $(tail -5 "$T_TMP/go-build.log")"
}

# srtp_tag PROFILE: the SRTP authentication tag's length (RFC 3711, 7714).
srtp_tag() {
  case $1 in
    AES_CM_128_HMAC_SHA1_80) echo 10 ;;
    AES_CM_128_HMAC_SHA1_32) echo 4 ;;
    AEAD_AES_128_GCM | AEAD_AES_256_GCM) echo 16 ;;
    *) fail "srtp_tag: unknown profile $1" ;;
  esac
}

# srtp_dtls PROFILE PORT NAME: a real DTLS-SRTP handshake between two pion
# peers across the veth pair, the DTLS server on xicept's side
# ($TB_RX_IP:PORT), the client on the remote's ($TB_TX_IP:PORT). Each writes
# its EXTRACTOR-dtls_srtp keys, mapped by its role, as an SDES key file of
# its own point of view: $T_TMP/NAME.local (xicept's --srtp file) and
# $T_TMP/NAME.remote. Checks that one's "in" is the other's "out".
srtp_dtls() {
  local profile=$1 port=$2 name=$3 spid cpid
  tb_rx timeout 30 "$SRTP_PEER" dtls -role server -profile "$profile" \
    -local "$TB_RX_IP:$port" -remote "$TB_TX_IP:$port" -out "$T_TMP/$name.local" \
    -ready "$T_TMP/$name.dtls-ready" >"$T_TMP/$name.dtls-server.log" 2>&1 &
  spid=$!
  T_PIDS+=("$spid")
  for _ in $(seq 200); do
    [ -e "$T_TMP/$name.dtls-ready" ] && break
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.05
  done
  [ -e "$T_TMP/$name.dtls-ready" ] ||
    fail "DTLS server ($profile) did not start: $(tail -3 "$T_TMP/$name.dtls-server.log")"
  tb_tx timeout 30 "$SRTP_PEER" dtls -role client -profile "$profile" \
    -local "$TB_TX_IP:$port" -remote "$TB_RX_IP:$port" -out "$T_TMP/$name.remote" \
    >"$T_TMP/$name.dtls-client.log" 2>&1 &
  cpid=$!
  T_PIDS+=("$cpid")
  wait "$cpid" || fail "DTLS client ($profile) exit $?: $(tail -3 "$T_TMP/$name.dtls-client.log")"
  wait "$spid" || fail "DTLS server ($profile) exit $?: $(tail -3 "$T_TMP/$name.dtls-server.log")"
  expect_eq "$(srtp_line "$T_TMP/$name.local" in)" "$(srtp_line "$T_TMP/$name.remote" out)" \
    "$profile: xicept's in keys are the DTLS client's out keys"
  expect_eq "$(srtp_line "$T_TMP/$name.local" out)" "$(srtp_line "$T_TMP/$name.remote" in)" \
    "$profile: xicept's out keys are the DTLS client's in keys"
  expect_eq "$(stat -c %a "$T_TMP/$name.local")" 600 "$profile: mode of the exported key file"
}

# srtp_line FILE in|out: the "PROFILE inline:BASE64" of one direction.
srtp_line() { awk -v d="$2" '$1 == d { print $2, $3 }' "$1"; }

# srtp_sdes PROFILE NAME: SDES keys drawn at random (as an SDP offer and
# answer would carry them), $T_TMP/NAME.local and $T_TMP/NAME.remote, mode 600.
srtp_sdes() {
  local len a b
  case $1 in
    AEAD_AES_256_GCM) len=44 ;;
    AEAD_AES_128_GCM) len=28 ;;
    *) len=30 ;;
  esac
  a=$(head -c "$len" /dev/urandom | base64 -w0)
  b=$(head -c "$len" /dev/urandom | base64 -w0)
  (umask 077
    printf 'in %s inline:%s\nout %s inline:%s\n' "$1" "$a" "$1" "$b" >"$T_TMP/$2.local"
    printf 'in %s inline:%s\nout %s inline:%s\n' "$1" "$b" "$1" "$a" >"$T_TMP/$2.remote")
}

# srtp_secrets FILE...: every key of the files, as base64, as hex, and the
# master key and the master salt apart in hex, one a line: what must appear
# nowhere.
srtp_secrets() {
  local f b64 hex
  for f in "$@"; do
    for b64 in $(sed -n 's/.*inline://p' "$f"); do
      hex=$(base64 -d <<<"$b64" | od -An -tx1 -v | tr -d ' \n')
      printf '%s\n%s\n%s\n%s\n' "$b64" "$hex" "${hex:0:32}" "${hex:32}"
    done
  done | sort -u
}

# gst_warm: the first gst-inspect builds GStreamer's plugin registry, which
# takes long on a fresh machine: untimed, before anything that is timed.
gst_warm() {
  gst-inspect-1.0 srtpenc >/dev/null 2>&1 || fail "GStreamer's srtpenc is missing (gstreamer1.0-plugins-bad)"
  gst-inspect-1.0 srtpdec >/dev/null 2>&1 || fail "GStreamer's srtpdec is missing (gstreamer1.0-plugins-bad)"
  "$GST_PY" -c 'import gi; gi.require_version("Gst", "1.0"); gi.require_version("GstApp", "1.0")' 2>/dev/null ||
    fail "python3-gi with GStreamer's typelibs is missing (python3-gi, gir1.2-gst-plugins-base-1.0)"
}
