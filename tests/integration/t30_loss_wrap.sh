#!/usr/bin/env bash
# Chosen sequence gaps give exactly the expected lost, and a stream crossing
# 65535 gives the right extended highest sequence number.
source "$(dirname "$0")/lib.sh"
t_setup

IF=$TB_RX_IF
t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --chain header-stats
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
id=$T_OUT

sink_start 5004 --idle 1 --duration 30
# Crosses 65535 with 3 gaps, two of them before the wrap and one after.
tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc 0x1111 --seq 65500 --count 100 \
  --skip 65510,65511,5 --rate 500 >"$T_TMP/a.json" || fail "xi-rtp-send a"
# No wrap, a run of 10 losses and a single one.
tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc 0x2222 --seq 1000 --count 300 \
  --skip 1100-1109,1200 --rate 1000 >"$T_TMP/b.json" || fail "xi-rtp-send b"
# Wraps with no loss, a few packets after the start: RFC 3550 A.1 counts
# cycles from the packet that ends the source's probation, not the first.
tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc 0x3333 --seq 65530 --count 20 \
  --rate 500 >"$T_TMP/c.json" || fail "xi-rtp-send c"
sink_wait 5004

expect_eq "$(jq .sent "$T_TMP/a.json")" 97 "packets sent, stream a"
expect_eq "$(sink_get 5004 4369 packets)" 97 "sink packets, stream a"
expect_eq "$(stats_get "$id" 4369 packets)" 97 "packets, stream a"
expect_eq "$(stats_get "$id" 4369 lost)" 3 "lost, stream a"
expect_eq "$(stats_get "$id" 4369 ext_highest_seq)" $((65536 + 63)) "ext_highest_seq, stream a"

expect_eq "$(jq .sent "$T_TMP/b.json")" 289 "packets sent, stream b"
expect_eq "$(stats_get "$id" 8738 packets)" 289 "packets, stream b"
expect_eq "$(stats_get "$id" 8738 lost)" 11 "lost, stream b"
expect_eq "$(stats_get "$id" 8738 ext_highest_seq)" 1299 "ext_highest_seq, stream b"

expect_eq "$(stats_get "$id" 13107 packets)" 20 "packets, stream c"
expect_eq "$(stats_get "$id" 13107 lost)" 0 "lost, stream c"
expect_eq "$(stats_get "$id" 13107 ext_highest_seq)" $((65536 + 13)) "ext_highest_seq, stream c"
expect_eq "$(stats_get "$id" 13107 bytes)" "$(sink_get 5004 13107 bytes)" "bytes, stream c"
