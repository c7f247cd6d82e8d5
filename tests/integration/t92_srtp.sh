#!/usr/bin/env bash
# SRTP and SRTCP with two real SRTP stacks, whose own receivers must accept
# every packet xicept emits:
#   - pion (tests/integration/srtp_peer: pion/dtls, pion/srtp), its keys
#     exported from a real DTLS-SRTP handshake across the veth pair
#     (EXTRACTOR-dtls_srtp, mapped by the DTLS role), for the three profiles
#     pion has: AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32,
#     AEAD_AES_128_GCM;
#   - GStreamer's srtpenc/srtpdec (srtp_gst.py), SDES keys, for
#     AEAD_AES_256_GCM.
# Each profile has one ingress connection (the remote sends media with
# known sequence numbers left out: nack-generator and receiver-report emit
# SRTCP) and one egress connection (a local application sends; sender-report
# emits SRTCP; on pion's, the remote NACKs and nack-responder answers with
# RTX). Checked, from the peers' own SRTP stacks: zero authentication
# failures; the SRTCP they authenticated is every compound xicept emitted;
# NACKs name exactly the missing sequence numbers; RRs carry RFC 3550's
# cumulative loss and extended highest sequence number, and (pion) the LSR
# of the remote's SRTCP sender report that xicept read; RTX answers the NACK
# with the original payloads; xicept's RTCP comes from one SSRC of its own.
# header-stats' byte counts leave out the tag exactly. Also: every bad key
# input (conn add --srtp, apply's JSON) fails with one line and adds
# nothing; no key (base64 or hex) shows in any output, log, /metrics,
# /debug/registry, pinned map or /proc/*/cmdline; a restarted daemon emits
# valid SRTCP with the stored keys, which a pion holding another
# connection's keys rejects; conn del and detach erase them.
# Keys live under $XICEPT_SRTP_DIR, a directory of the test's own.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
source "$(dirname "$0")/lib_srtp.sh"
t_setup
for tool in go gst-inspect-1.0 python3 bpftool curl jq; do
  command -v "$tool" >/dev/null || fail "$tool is missing"
done
srtp_peer_build
gst_warm

IF=$TB_RX_IF
export XICEPT_SRTP_DIR=$T_TMP/srtp-keys   # the daemon and the CLI inherit it
MPORT=9192
OUTS=$T_TMP/outputs.log   # every CLI answer, for the secrets check
PION=(AES_CM_128_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_32 AEAD_AES_128_GCM)
GST=AEAD_AES_256_GCM
SKIP=20,21,22,57,90,150           # offsets the remotes leave out
NSKIP=6
PCOUNT=300 PSIZE=200              # pion ingress: packets, payload bytes
ECOUNT=300 ESIZE=160              # pion egress
NACKS=1200,1201,1202,1250,1299    # what pion's egress remote NACKs
GCOUNT=200 GSIZE=320              # GStreamer: L16, 160 samples
IN_CHAIN='header-stats ! nack-generator interval=20ms streams=all max-nacks=1 ! receiver-report interval=100ms'
EG_CHAIN='header-stats ! sender-report interval=200ms ! nack-responder size=512'

xo() {   # xi ARGS...: t_run, the answer kept for the secrets check
  t_run xi "$@"
  printf '%s\n%s\n' "$T_OUT" "$T_ERR" >>"$OUTS"
}
nconns() { xi conn list "$IF" --json | jq '.connections | length'; }

t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"

# --- Bad input: one line, exit 1, nothing added, no key file left. -------
srtp_sdes AES_CM_128_HMAC_SHA1_80 good
gin=$(srtp_line "$T_TMP/good.local" in)
gout=$(srtp_line "$T_TMP/good.local" out)
short=$(head -c 20 /dev/urandom | base64 -w0)
badfile() {   # NAME LINE...: a key file of mode 600
  (umask 077; printf '%s\n' "${@:2}" >"$T_TMP/bad-$1")
  echo "$T_TMP/bad-$1"
}
bad() {   # REGEX FILE [CHAIN]: conn add with it fails and adds nothing
  expect_error 1 "$1" xi conn add "$IF" --local "$TB_RX_IP:5100" --chain "${3:-header-stats}" \
    --srtp "$2"
  printf '%s\n' "$T_ERR" >>"$OUTS"
  expect_eq "$(nconns)" 0 "connections after a refused --srtp $(basename "$2")"
  expect_eq "$(find "$XICEPT_SRTP_DIR" -type f 2>/dev/null | wc -l)" 0 "key files after a refused --srtp"
}
bad "unknown SRTP profile .AES_CM_128_HMAC_SHA1_99." "$(badfile profile "in AES_CM_128_HMAC_SHA1_99 inline:${gin#* inline:}" "out $gout")"
bad "AES_CM_128_HMAC_SHA1_80: the key must be 16 bytes of key and 14 of salt" "$(badfile length "in AES_CM_128_HMAC_SHA1_80 inline:$short" "out $gout")"
bad "AEAD_AES_256_GCM: the key must be 32 bytes of key and 12 of salt" "$(badfile gcm-length "in AEAD_AES_256_GCM ${gin#* }" "out AEAD_AES_256_GCM ${gout#* }")"
bad "not valid base64" "$(badfile base64 "in AES_CM_128_HMAC_SHA1_80 inline:@@not*base64@@" "out $gout")"
bad "need an .in. line and an .out. line \(missing: in\)" "$(badfile no-in "out $gout")"
bad "need an .in. line and an .out. line \(missing: out\)" "$(badfile no-out "in $gin")"
f=$(badfile group "in $gin" "out $gout"); chmod 640 "$f"
bad "readable or writable by group or others \(mode 0640\)" "$f"
f=$(badfile other "in $gin" "out $gout"); chmod 604 "$f"
bad "readable or writable by group or others \(mode 0604\)" "$f"
f=$(badfile owner "in $gin" "out $gout"); chown nobody "$f"
bad "owned by uid 65534, not root" "$f"
bad "twcc-sequencer .*cannot run on an SRTP connection" "$T_TMP/good.local" 'header-stats ! twcc-sequencer ext-id=3'
# The same keys through apply's JSON: a file open to others, a bad profile.
apply_srtp() {   # NAME IN OUT: an apply file adding one SRTP connection
  (umask 077
    jq -n --arg ifn "$IF" --arg l "$TB_RX_IP:5100" --arg in "$2" --arg out "$3" \
      '{interfaces: [{name: $ifn, connections: [{local: $l, chain: "header-stats",
        srtp: {in: $in, out: $out}}]}]}' >"$T_TMP/apply-$1.json") || fail "jq cannot write an apply file"
  echo "$T_TMP/apply-$1.json"
}
f=$(apply_srtp mode "$gin" "$gout"); chmod 644 "$f"
expect_error 1 "readable or writable by group or others \(mode 0644\)" xi apply "$f"
printf '%s\n' "$T_ERR" >>"$OUTS"
expect_eq "$(nconns)" 0 "connections after a refused apply"
f=$(apply_srtp profile "AES_CM_128_HMAC_SHA1_99 ${gin#* }" "$gout")
expect_error 1 "unknown SRTP profile .AES_CM_128_HMAC_SHA1_99." xi apply "$f"
printf '%s\n' "$T_ERR" >>"$OUTS"
expect_eq "$(nconns)" 0 "connections after a refused apply"
expect_eq "$(find "$XICEPT_SRTP_DIR" -type f 2>/dev/null | wc -l)" 0 "key files after a refused apply"

# --- Keys: pion's from DTLS handshakes, GStreamer's SDES. ----------------
for i in 0 1 2; do
  srtp_dtls "${PION[i]}" $((4400 + i)) "in$i"
  srtp_dtls "${PION[i]}" $((4410 + i)) "eg$i"
done
srtp_sdes "$GST" gin
srtp_sdes "$GST" geg

# --- The connections: 4 ingress, 4 egress. -------------------------------
for i in 0 1 2; do
  if [ "$i" -eq 0 ]; then   # one through standard input
    t_run tb_rx "$XICEPT" conn add "$IF" --local "$TB_RX_IP:$((5010 + i))" \
      --remote "$TB_TX_IP:$((6010 + i))" --stream $((0x1000 + i)):96:90000 --chain "$IN_CHAIN" \
      --srtp - <"$T_TMP/in$i.local"
  else
    xo conn add "$IF" --local "$TB_RX_IP:$((5010 + i))" --remote "$TB_TX_IP:$((6010 + i))" \
      --stream $((0x1000 + i)):96:90000 --chain "$IN_CHAIN" --srtp "$T_TMP/in$i.local"
  fi
  expect_eq "$T_RC" 0 "conn add, ingress ${PION[i]} ($T_ERR)"
  xo conn add "$IF" --local "$TB_RX_IP:$((5020 + i))" --remote "$TB_TX_IP:$((6020 + i))" \
    --local-stream $((0x2000 + i)):96:90000:rtx=$((0x2100 + i))/97 --chain "$EG_CHAIN" \
    --srtp "$T_TMP/eg$i.local"
  expect_eq "$T_RC" 0 "conn add, egress ${PION[i]} ($T_ERR)"
done
xo conn add "$IF" --local "$TB_RX_IP:5030" --remote "$TB_TX_IP:6030" --stream 0x3000:96:8000 \
  --chain "$IN_CHAIN" --srtp "$T_TMP/gin.local"
expect_eq "$T_RC" 0 "conn add, ingress $GST ($T_ERR)"
xo conn add "$IF" --local "$TB_RX_IP:5031" --remote "$TB_TX_IP:6031" --local-stream 0x3100:96:8000 \
  --chain 'header-stats ! sender-report interval=200ms' --srtp "$T_TMP/geg.local"
expect_eq "$T_RC" 0 "conn add, egress $GST ($T_ERR)"
expect_eq "$(nconns)" 8 "connections added"
xo conn list "$IF"
expect_eq "$(grep -c "srtp in AES_CM_128_HMAC_SHA1_80, out AES_CM_128_HMAC_SHA1_80" <<<"$T_OUT")" 2 \
  "conn list: AES_CM_128_HMAC_SHA1_80 connections"
expect_eq "$(grep -c "srtp in $GST, out $GST" <<<"$T_OUT")" 2 "conn list: $GST connections"
expect_eq "$(find "$XICEPT_SRTP_DIR" -type f | wc -l)" 8 "key files, one a connection"
expect_eq "$(find "$XICEPT_SRTP_DIR" -type f ! -perm 600 | wc -l)" 0 "key files not of mode 600"
expect_eq "$(find "$XICEPT_SRTP_DIR" -mindepth 1 -type d ! -perm 700 | wc -l)" 0 "key directories not of mode 700"

RUN_ARGS="--listen $MPORT"
run_start

# --- Traffic: receivers first (ready files), then senders. ---------------
P=$T_TMP/peers
mkdir -p "$P"
PEERS=()
peer() {   # NAME NS CMD...: in the background; output in $P/NAME.{json,err}
  local name=$1 ns=$2
  shift 2
  "tb_$ns" timeout 90 "$@" -ready "$P/$name.ready" -done "$P/$name.done" -stop "$P/stop" \
    >"$P/$name.json" 2>"$P/$name.err" &
  T_PIDS+=($!)
  PEERS+=("$name:$!")
}
gpeer() {   # NAME NS ARGS...: srtp_gst.py, likewise
  local name=$1 ns=$2
  shift 2
  "tb_$ns" env GST_DEBUG="${GST_DEBUG:-*:2}" GST_DEBUG_NO_COLOR=1 timeout 90 "$GST_PY" "$SRTP_GST" "$@" --ready "$P/$name.ready" --done "$P/$name.done" \
    --stop "$P/stop" >"$P/$name.json" 2>"$P/$name.err" &
  T_PIDS+=($!)
  PEERS+=("$name:$!")
}
ready() {   # NAME...: wait for their sockets
  local n
  for n in "$@"; do
    for _ in $(seq 400); do [ -e "$P/$n.ready" ] && break; sleep 0.05; done
    [ -e "$P/$n.ready" ] || fail "peer $n did not start: $(tail -3 "$P/$n.err")"
  done
}
for i in 0 1 2; do
  peer "in$i-app" rx "$SRTP_PEER" peer -keys "$T_TMP/in$i.local" \
    -local "$TB_RX_IP:$((5010 + i))" -remote "$TB_TX_IP:$((6010 + i))"
  peer "eg$i-remote" tx "$SRTP_PEER" peer -keys "$T_TMP/eg$i.remote" \
    -local "$TB_TX_IP:$((6020 + i))" -remote "$TB_RX_IP:$((5020 + i))" \
    -nack-ssrc $((0x2000 + i)) -nack "$NACKS" -after "$ECOUNT" -rtx-ssrc $((0x2100 + i))
done
gpeer gin-app rx "$T_TMP/gin.local" "$TB_RX_IP:5030" "$TB_TX_IP:6030" --expect-ssrc 0x3000
gpeer geg-remote tx "$T_TMP/geg.remote" "$TB_TX_IP:6031" "$TB_RX_IP:5031" --expect-ssrc 0x3100
ready in0-app in1-app in2-app eg0-remote eg1-remote eg2-remote gin-app geg-remote
for i in 0 1 2; do
  peer "in$i-remote" tx "$SRTP_PEER" peer -keys "$T_TMP/in$i.remote" \
    -local "$TB_TX_IP:$((6010 + i))" -remote "$TB_RX_IP:$((5010 + i))" \
    -send-ssrc $((0x1000 + i)) -count "$PCOUNT" -size "$PSIZE" -skip "$SKIP" -sr
  peer "eg$i-app" rx "$SRTP_PEER" peer -keys "$T_TMP/eg$i.local" \
    -local "$TB_RX_IP:$((5020 + i))" -remote "$TB_TX_IP:$((6020 + i))" \
    -send-ssrc $((0x2000 + i)) -count "$ECOUNT" -size "$ESIZE"
done
gpeer gin-remote tx "$T_TMP/gin.remote" "$TB_TX_IP:6030" "$TB_RX_IP:5030" --send-ssrc 0x3000 \
  --count "$GCOUNT" --skip "$SKIP"
gpeer geg-app rx "$T_TMP/geg.local" "$TB_RX_IP:5031" "$TB_TX_IP:6031" --send-ssrc 0x3100 \
  --count "$GCOUNT"

# Every end done sending (and pion's egress remotes their RTX), then a few
# more reports, then the daemon stops before the peers do: what it emitted
# is what they read.
for pe in "${PEERS[@]}"; do
  n=${pe%%:*}
  for _ in $(seq 1200); do
    [ -e "$P/$n.done" ] && break
    kill -0 "${pe#*:}" 2>/dev/null || break
    sleep 0.05
  done
  [ -e "$P/$n.done" ] || fail "peer $n did not finish sending: $(tail -3 "$P/$n.err")"
done
sleep 0.6

# While it runs: everything it shows, for the secrets check.
xo stats "$IF" --json
cp "$T_TMP/stderr" "$T_TMP/stats.err"
printf '%s\n' "$T_OUT" >"$T_TMP/stats.json"
xo stats "$IF"
xo status "$IF"
xo status "$IF" --json
xo conn list "$IF" --json
tb_rx curl -sf "http://127.0.0.1:$MPORT/metrics" >"$T_TMP/metrics" || fail "cannot scrape /metrics"
tb_rx curl -sf "http://127.0.0.1:$MPORT/debug/registry" >"$T_TMP/registry" ||
  fail "cannot read /debug/registry"
: >"$T_TMP/maps"
for pin in "$TB_PIN_ROOT/$IF"/*; do
  [ -f "$pin" ] || continue
  bpftool map dump pinned "$pin" >>"$T_TMP/maps" 2>/dev/null
done
[ -s "$T_TMP/maps" ] || fail "no map pinned under $TB_PIN_ROOT/$IF could be dumped"
for c in /proc/[0-9]*/cmdline; do { tr '\0' ' ' <"$c"; } 2>/dev/null; echo; done >"$T_TMP/cmdlines"
run_stop TERM
touch "$P/stop"
for pe in "${PEERS[@]}"; do
  wait "${pe#*:}" || fail "peer ${pe%%:*} exit $?: $(grep -v "^$" "$P/${pe%%:*}.err" | grep -m3 -e "srtp_" -e "rror" || tail -3 "$P/${pe%%:*}.err")"
  jq -e . "$P/${pe%%:*}.json" >/dev/null || fail "peer ${pe%%:*} printed no JSON: $(tail -3 "$P/${pe%%:*}.err")"
done
t_ok

pj() { jq -c "$2" "$P/$1.json"; }
st() {   # LOCALPORT SSRC FIELD: header-stats of one SSRC of a connection
  jq --arg l "$TB_RX_IP:$1" --argjson s "$2" \
    "[.connections[] | select(.local == \$l) | .ssrcs[] | select(.ssrc == \$s) | .$3] | first // \"none\"" \
    "$T_TMP/stats.json"
}
metric() {   # NAME CONN SSRC
  awk -v m="$1{ifname=\"$IF\",conn=\"$2\",ssrc=\"$3\"}" '$1 == m { print $2 }' "$T_TMP/metrics"
}
conn_id() { jq --arg l "$TB_RX_IP:$1" '.connections[] | select(.local == $l) | .id' "$T_TMP/stats.json"; }
skipped() {   # FIRSTSEQ: the sequence numbers SKIP leaves out, as a JSON list
  tr ',' '\n' <<<"$SKIP" | awk -v f="$1" '{ print f + $1 }' | jq -sc .
}
emitted=0

# --- pion, three profiles. -----------------------------------------------
for i in 0 1 2; do
  pr=${PION[i]} tag=$(srtp_tag "${PION[i]}")
  ssrc=$((0x1000 + i)) eport=$((5020 + i)) esrc=$((0x2000 + i))
  r=in$i-remote a=in$i-app
  sent=$((PCOUNT - NSKIP))
  expect_eq "$(pj "$r" .sent)" "$sent" "$pr ingress: packets the remote sent"
  expect_eq "$(pj "$r" .auth_fail)" 0 "$pr ingress: SRTCP the remote's pion could not authenticate ($(pj "$r" .errors))"
  expect_eq "$(pj "$r" .errors)" '[]' "$pr ingress: errors at the remote"
  expect_eq "$(pj "$r" '.nacked | sort')" "$(skipped 1000)" "$pr ingress: sequence numbers NACKed"
  expect_eq "$(pj "$r" '.nacked | length')" "$NSKIP" "$pr ingress: NACK entries (each once)"
  expect_eq "$(pj "$r" '.nack_media | unique')" "[$ssrc]" "$pr ingress: NACKs' media SSRC"
  expect_eq "$(pj "$r" .rr_cum_lost)" "$NSKIP" "$pr ingress: RR cumulative loss"
  expect_eq "$(pj "$r" .rr_ext_highest)" $((1000 + PCOUNT - 1)) "$pr ingress: RR extended highest sequence"
  expect_eq "$(pj "$r" '.rr_lsr == .sr_lsr and .sr_lsr != 0')" true \
    "$pr ingress: RR's LSR is the remote's SRTCP SR ($(pj "$r" .rr_lsr) vs $(pj "$r" .sr_lsr))"
  expect_eq "$(pj "$r" '.rtcp_senders | unique | length')" 1 "$pr ingress: SSRCs xicept's SRTCP came from"
  expect_eq "$(pj "$r" ".rtcp_senders | unique | map(select(. == $ssrc or . == $esrc)) | length")" 0 \
    "$pr ingress: xicept's SRTCP SSRC is none of the streams'"
  emitted=$((emitted + $(pj "$r" .srtcp_ok)))
  expect_eq "$(pj "$a" .srtp_ok)" "$sent" "$pr ingress: SRTP the application authenticated"
  expect_eq "$(pj "$a" '[.auth_fail, .media_same_payload, .errors]')" '[0,true,[]]' \
    "$pr ingress: the application's failures, payloads, errors"
  # header-stats: the tag is neither payload nor header.
  port=$((5010 + i))
  expect_eq "$(st $port $ssrc rtp_packets)" "$sent" "$pr ingress: header-stats packets"
  expect_eq "$(st $port $ssrc lost)" "$NSKIP" "$pr ingress: header-stats lost"
  expect_eq "$(st $port $ssrc payload_bytes)" $((sent * PSIZE)) "$pr ingress: payload_bytes (no tag)"
  expect_eq "$(st $port $ssrc bytes)" $((sent * (12 + PSIZE + tag))) "$pr ingress: bytes (header, payload, tag)"
  expect_eq "$(st $port $ssrc header_bytes)" $((sent * 12)) "$pr ingress: header_bytes (no tag)"
  expect_eq "$(metric xicept_payload_bytes_total "$(conn_id $port)" $ssrc)" $((sent * PSIZE)) \
    "$pr ingress: xicept_payload_bytes_total"

  r=eg$i-remote
  expect_eq "$(pj "$r" '[.auth_fail, .errors]')" '[0,[]]' "$pr egress: the remote's pion failures, errors"
  expect_eq "$(pj "$r" .media_seqs)" "$ECOUNT" "$pr egress: packets of the local stream at the remote"
  expect_eq "$(pj "$r" .media_same_payload)" true "$pr egress: their payloads"
  expect_eq "$(pj "$r" .rtx_osn)" "[$NACKS]" "$pr egress: RTX OSNs answering the NACK"
  expect_eq "$(pj "$r" '.rtx_pt | unique')" "[97]" "$pr egress: RTX payload type"
  expect_eq "$(pj "$r" .rtx_same_payload)" true "$pr egress: RTX payloads are the originals"
  expect_eq "$(pj "$r" ".rtp_by_ssrc[\"$((0x2100 + i))\"]")" 5 "$pr egress: RTX packets authenticated"
  resent=$((${resent:-0} + $(pj "$r" ".rtp_by_ssrc[\"$((0x2100 + i))\"]")))
  expect_eq "$(pj "$r" '.srtcp_ok > 0')" true "$pr egress: sender reports authenticated"
  expect_eq "$(pj "$r" ".rtcp_senders | unique | map(select(. == $esrc or . == $((0x2100 + i)))) | length")" 0 \
    "$pr egress: xicept's SRTCP SSRC is none of the streams'"
  emitted=$((emitted + $(pj "$r" .srtcp_ok)))
  expect_eq "$(st $eport $esrc sent_packets)" "$ECOUNT" "$pr egress: header-stats packets leaving"
  expect_eq "$(st $eport $esrc sent_octets)" $((ECOUNT * ESIZE)) "$pr egress: payload octets leaving (no tag)"
  expect_eq "$(st $eport $esrc sent_header_bytes)" $((ECOUNT * 12)) "$pr egress: header bytes leaving (no tag)"
  expect_eq "$(st $eport $esrc nack_requested)" 5 "$pr egress: sequence numbers NACKed"
  expect_eq "$(st $eport $esrc nack_resent)" 5 "$pr egress: retransmitted"
done

# --- GStreamer, AEAD_AES_256_GCM. ----------------------------------------
tag=$(srtp_tag "$GST")
r='gin-remote'
gsent=$(pj "$r" .sent)
expect_eq "$gsent" $((GCOUNT - NSKIP)) "$GST ingress: packets the remote sent"
expect_eq "$(pj "$r" '.sent_bytes')" $((gsent * (12 + GSIZE + tag))) "$GST ingress: srtpenc's datagram sizes"
expect_eq "$(pj "$r" '[.dropped, .errors]')" '[0,[]]' "$GST ingress: what the remote's srtpdec dropped, errors"
expect_eq "$(pj "$r" '.rtcp_ok == .received and .rtcp_ok > 0')" true \
  "$GST ingress: SRTCP srtpdec authenticated ($(pj "$r" .rtcp_ok)) of what came ($(pj "$r" .received))"
expect_eq "$(pj "$r" '.nacked | sort')" "$(pj "$r" '.dropped_seqs | sort')" "$GST ingress: sequence numbers NACKed"
expect_eq "$(pj "$r" '.nacked | length')" "$NSKIP" "$GST ingress: NACK entries (each once)"
expect_eq "$(pj "$r" .rr_cum_lost)" "$NSKIP" "$GST ingress: RR cumulative loss"
first=$(pj "$r" '.dropped_seqs[0] - 20')
expect_eq "$(pj "$r" .rr_ext_highest)" $((first + GCOUNT - 1)) "$GST ingress: RR extended highest sequence"
expect_eq "$(pj "$r" '.rtcp_senders | unique | map(select(. == 12288 or . == 12544)) | length')" 0 \
  "$GST ingress: xicept's SRTCP SSRC is none of the streams'"
emitted=$((emitted + $(pj "$r" .rtcp_ok)))
expect_eq "$(pj gin-app '[.received, .rtp_ok, .dropped]')" "[$gsent,$gsent,0]" \
  "$GST ingress: SRTP at the application, authenticated, dropped"
expect_eq "$(st 5030 12288 rtp_packets)" "$gsent" "$GST ingress: header-stats packets"
expect_eq "$(st 5030 12288 payload_bytes)" $((gsent * GSIZE)) "$GST ingress: payload_bytes (no tag)"
expect_eq "$(st 5030 12288 bytes)" $((gsent * (12 + GSIZE + tag))) "$GST ingress: bytes (header, payload, tag)"
expect_eq "$(st 5030 12288 header_bytes)" $((gsent * 12)) "$GST ingress: header_bytes (no tag)"
r=geg-remote
expect_eq "$(pj "$r" '[.rtp_ok, .rtp_seqs, .dropped, .errors]')" "[$GCOUNT,$GCOUNT,0,[]]" \
  "$GST egress: SRTP of the local stream authenticated at the remote, distinct, dropped, errors"
expect_eq "$(pj "$r" '.rtcp_ok + .rtp_ok == .received and .rtcp_ok > 0')" true \
  "$GST egress: sender reports srtpdec authenticated ($(pj "$r" .rtcp_ok)), all it got ($(pj "$r" .received))"
emitted=$((emitted + $(pj "$r" .rtcp_ok)))
expect_eq "$(st 5031 12544 sent_packets)" "$GCOUNT" "$GST egress: header-stats packets leaving"
expect_eq "$(st 5031 12544 sent_octets)" $((GCOUNT * GSIZE)) "$GST egress: payload octets leaving (no tag)"
expect_eq "$(st 5031 12544 sent_header_bytes)" $((GCOUNT * 12)) "$GST egress: header bytes leaving (no tag)"

# xicept's side: nothing failed, and what it emitted is what the peers read.
expect_eq "$(jq -c '.rtcp_ignored | [.srtcp_auth, .srtcp_replay, .srtcp_no_keys]' "$T_TMP/stats.json")" \
  '[0,0,0]' "SRTCP xicept could not read"
expect_eq "$(jq -c '.reasons.srtcp > 0' "$T_TMP/stats.json")" true "SRTCP classified as such"
expect_eq "$(jq -c '.reasons.bad_rtp' "$T_TMP/stats.json")" 0 "SRTP counted as bad RTP"
summary=$(grep 'stopped:' "$RUN_LOG" | tail -1)
expect_match "$summary" " $emitted RTCP emitted \(0 failed\)" \
  "the daemon's RTCP emitted count is the SRTCP the peers authenticated ($emitted)"
expect_match "$summary" " $resent RTP resent \(0 failed\)" \
  "the daemon's RTP resent count is the RTX the peers authenticated ($resent)"

# --- No key anywhere. ----------------------------------------------------
srtp_secrets "$T_TMP"/{in0,in1,in2,eg0,eg1,eg2,gin,geg}.local >"$T_TMP/secrets"
expect_eq "$(wc -l <"$T_TMP/secrets")" 64 "secrets to look for"
for f in "$OUTS" "$RUN_LOG" "$T_TMP/metrics" "$T_TMP/registry" "$T_TMP/maps" "$T_TMP/cmdlines" \
  "$T_TMP/stats.err"; do
  hit=$(grep -F -i -o -f "$T_TMP/secrets" "$f" | head -1)
  [ -z "$hit" ] || fail "a key shows in $(basename "$f"): ...${hit:0:6}..."
  t_ok
done
# The pinned maps, once more as raw bytes (a key split over bpftool's lines).
grep -oiE '\b(0x)?[0-9a-f]{2}\b' "$T_TMP/maps" | sed 's/^0x//' | tr -d '\n' |
  grep -F -i -q -f <(grep -E '^[0-9a-f]{56,}$' "$T_TMP/secrets") &&
  fail "a key's bytes show in a pinned map"
t_ok

# --- A restarted daemon finds the keys: valid SRTCP again. ---------------
# Beside it, a remote of connection 1 that holds the keys of another
# connection of its profile (AES_CM_128_HMAC_SHA1_32, from another handshake):
# its pion must reject every compound (so a peer's zero failures mean
# something).
rm -f "$P/stop"
run_start
peer in0-remote2 tx "$SRTP_PEER" peer -keys "$T_TMP/in0.remote" \
  -local "$TB_TX_IP:6010" -remote "$TB_RX_IP:5010" -send-ssrc 0x1000 -count 100 -size "$PSIZE"
peer wrong-keys tx "$SRTP_PEER" peer -keys "$T_TMP/eg1.remote" \
  -local "$TB_TX_IP:6011" -remote "$TB_RX_IP:5011" -send-ssrc 0x1001 -count 100 -size "$PSIZE"
for n in in0-remote2 wrong-keys; do
  for _ in $(seq 600); do [ -e "$P/$n.done" ] && break; sleep 0.05; done
  [ -e "$P/$n.done" ] || fail "peer $n did not finish sending: $(tail -3 "$P/$n.err")"
done
sleep 0.6
run_stop TERM
touch "$P/stop"
for pe in "${PEERS[@]: -2}"; do
  wait "${pe#*:}" || fail "peer ${pe%%:*} exit $?: $(tail -3 "$P/${pe%%:*}.err")"
done
expect_eq "$(pj in0-remote2 '[.auth_fail, .errors]')" '[0,[]]' "after a restart: the remote's pion failures"
n=$(pj in0-remote2 .srtcp_ok)
expect_eq "$((n > 0))" 1 "after a restart: SRTCP the remote authenticated"
w=$(pj wrong-keys .auth_fail)
expect_eq "$(pj wrong-keys '[.srtcp_ok, .auth_fail > 0]')" '[0,true]' \
  "with another connection's keys: SRTCP pion authenticated, failures"
expect_match "$(grep 'stopped:' "$RUN_LOG" | tail -1)" " $((n + w)) RTCP emitted \(0 failed\)" \
  "after a restart: RTCP emitted is what the two remotes got ($n + $w)"
expect_eq "$(pj in0-remote2 '.rtcp_senders | unique | length')" 1 "after a restart: one SSRC of xicept's"
expect_eq "$(pj in0-remote2 ".rtcp_senders | unique | .[0] != $(pj in0-remote '.rtcp_senders[0]')")" true \
  "after a restart: a new SSRC"

# --- Erased: conn del takes its file, detach the rest. -------------------
id=$(conn_id 5011)
files_before=$(find "$XICEPT_SRTP_DIR" -type f | wc -l)
xo conn del "$IF" "$id"
expect_eq "$T_RC" 0 "conn del ($T_ERR)"
expect_eq "$(find "$XICEPT_SRTP_DIR" -type f | wc -l)" $((files_before - 1)) "key files after conn del"
expect_eq "$(find "$XICEPT_SRTP_DIR" -type f -name "$id" | wc -l)" 0 "the deleted connection's key file"
t_run xi detach "$IF"
expect_eq "$T_RC" 0 "detach ($T_ERR)"
expect_eq "$(find "$XICEPT_SRTP_DIR" -mindepth 1 | wc -l)" 0 "key files and directories after detach"
