#!/usr/bin/env bash
# A real sender (ffmpeg: VP8 video and Opus audio, two SSRCs to one port)
# streams into the rx namespace; xicept's per-SSRC counters must equal,
# exactly, what the receiver's own UDP socket counted.
source "$(dirname "$0")/lib.sh"
t_setup

IF=$TB_RX_IF
VIDEO=4660    # 0x1234
AUDIO=22136   # 0x5678

t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --chain header-stats \
  --stream 0x1234:96:90000 --stream 0x5678:97:48000
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
id=$T_OUT

sink_start 5004 --idle 1.5 --duration 30
ffmpeg_vp8 0x1234 5004 3 &
video_pid=$!
T_PIDS+=("$video_pid")
tb_tx ffmpeg -nostdin -hide_banner -loglevel error -re -f lavfi -i "sine=frequency=440:duration=3" \
  -c:a libopus -b:a 64k -ssrc 0x5678 -payload_type 97 -f rtp "rtp://$TB_RX_IP:5004" >/dev/null ||
  fail "ffmpeg (opus) failed"
wait "$video_pid" || fail "ffmpeg (vp8) failed"
sink_wait 5004

expect_eq "$(jq '.non_rtp' "$T_TMP/sink-5004.json")" 0 "non-RTP datagrams at the sink"
expect_eq "$(jq -c '[.ssrcs[].ssrc]' "$T_TMP/sink-5004.json")" "[$VIDEO,$AUDIO]" "SSRCs at the sink"
for ssrc in $VIDEO $AUDIO; do
  pkts=$(sink_get 5004 $ssrc packets)
  [ "$pkts" -ge 50 ] || fail "ssrc $ssrc: only $pkts packets reached the sink"
  expect_eq "$(stats_get "$id" $ssrc packets)" "$pkts" "ssrc $ssrc packets"
  expect_eq "$(stats_get "$id" $ssrc bytes)" "$(sink_get 5004 $ssrc bytes)" "ssrc $ssrc bytes"
  expect_eq "$(stats_get "$id" $ssrc payload_bytes)" "$(sink_get 5004 $ssrc payload_bytes)" \
    "ssrc $ssrc payload_bytes"
  expect_eq "$(stats_get "$id" $ssrc lost)" 0 "ssrc $ssrc lost"
  expect_eq "$(stats_get "$id" $ssrc dropped)" 0 "ssrc $ssrc dropped"
  expect_eq "$(( $(stats_get "$id" $ssrc ext_highest_seq) % 65536 ))" \
    "$(sink_get 5004 $ssrc last_seq)" "ssrc $ssrc ext_highest_seq (low 16 bits)"
done

# The document's shape: every key the issue names, SSRCs as numbers.
xi stats "$IF" --json >"$T_TMP/stats.json"
expect_eq "$(jq -c '.connections[0] | keys_unsorted[:4]' "$T_TMP/stats.json")" \
  '["id","local","remote","chain"]' "connection keys"
expect_eq "$(jq -c '.connections[0].ssrcs[0] | keys_unsorted[:8]' "$T_TMP/stats.json")" \
  '["ssrc","packets","bytes","payload_bytes","lost","ext_highest_seq","jitter","dropped"]' "SSRC keys"
expect_eq "$(jq -r '.connections[0].ssrcs[0].ssrc | type' "$T_TMP/stats.json")" number "ssrc type"
expect_eq "$(jq -r '.connections[0].chain' "$T_TMP/stats.json")" header-stats "chain"
total=$(jq '.packets' "$T_TMP/sink-5004.json")
expect_eq "$(jq '.reasons.rtp' "$T_TMP/stats.json")" "$total" "reason counter rtp"

# The human table carries the same numbers.
t_run xi stats "$IF" --conn "$id"
expect_match "$T_OUT" "0x00001234 +$(sink_get 5004 $VIDEO packets) +$(sink_get 5004 $VIDEO bytes) " "table row"
