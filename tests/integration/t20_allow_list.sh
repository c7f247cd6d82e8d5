#!/usr/bin/env bash
# ssrc-filter with an allow list drops, in XDP, a second stream with a
# foreign SSRC on the same port: the socket sees only the allowed SSRC, and
# the drops are counted exactly.
source "$(dirname "$0")/lib.sh"
t_setup

IF=$TB_RX_IF
ALLOWED=4660   # 0x1234
FOREIGN=2989   # 0xbad

t_run xi attach "$IF" --policy pass
expect_eq "$T_RC" 0 "attach ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" \
  --chain 'ssrc-filter mode=allow ssrc=0x1234 ! header-stats' --stream 0x1234:96:90000
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
id=$T_OUT

sink_start 5004 --idle 1.5 --duration 30
tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc 0xbad --count 250 --rate 100 --from-port 7000 \
  >"$T_TMP/foreign.json" &
send_pid=$!
T_PIDS+=("$send_pid")
ffmpeg_vp8 0x1234 5004 3
wait "$send_pid" || fail "xi-rtp-send failed"
sink_wait 5004

sent=$(jq .sent "$T_TMP/foreign.json")
expect_eq "$sent" 250 "foreign packets sent"
expect_eq "$(jq -c '[.ssrcs[].ssrc]' "$T_TMP/sink-5004.json")" "[$ALLOWED]" "SSRCs the socket saw"
pkts=$(sink_get 5004 $ALLOWED packets)
[ "$pkts" -ge 50 ] || fail "only $pkts allowed packets reached the sink"
expect_eq "$(stats_get "$id" $ALLOWED packets)" "$pkts" "allowed packets"
expect_eq "$(stats_get "$id" $ALLOWED bytes)" "$(sink_get 5004 $ALLOWED bytes)" "allowed bytes"
expect_eq "$(stats_get "$id" $ALLOWED dropped)" 0 "allowed SSRC dropped"
expect_eq "$(stats_get "$id" $FOREIGN dropped)" "$sent" "foreign SSRC dropped"
expect_eq "$(stats_get "$id" $FOREIGN packets)" 0 "foreign packets past the filter"
expect_eq "$(jq '.reasons.ssrc_drop' "$T_TMP/stats.json")" "$sent" "reason counter ssrc_drop"
