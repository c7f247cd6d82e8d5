#!/usr/bin/env bash
# xicept run --listen: /metrics scraped with curl while traffic flows and
# checked by promtool (the Prometheus text format), with exact values: RTP
# packets, losses and drops per connection and SSRC equal what was sent,
# the reasons equal 'xicept stats --json', the NACKs and receiver reports
# sent equal what tshark decodes on the sender's side, one chain build per
# connection in the histogram, one registration timed per entry, no lookup
# miss from loading the good plugin, the bad plugin's failure by file.
# /debug/registry checked with jq (the good plugin's init time among it); anything but GET gets 405, unknown paths
# 404; the default bind is loopback only; 2000 requests from parallel curls
# during the traffic lose no packet.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
t_setup
command -v promtool >/dev/null || fail "promtool is missing (scripts/deps.sh installs prometheus)"

# A bad plugin and a good one, on a path only root can write (not under /tmp).
rm -rf "$T_TMP"
T_TMP=$(mktemp -d -p "$T_BUILD" "xi-$T_NAME.XXXXXX")
P=$T_TMP/plugins
mkdir -p "$P"
printf 'not an ELF file\n' >"$P/garbage.so"
cc -shared -fPIC -O2 -Wall -Werror -I"$T_ROOT/include" -o "$P/good.so" \
  "$T_ROOT/tests/integration/plugins/bad_plugins.c" || fail "cannot build the good plugin"

IF=$TB_RX_IF
PORT=9464
URL=http://127.0.0.1:$PORT
SKIP="150,400-402,900"   # of sequence numbers 100..1599: 5 lost
t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --stream 0x1234:96:90000 \
  --chain 'ssrc-filter mode=allow ssrc=0x1234 ! header-stats ! nack-generator max-nacks=1 sender-ssrc=0xabc ! receiver-report interval=200ms sender-ssrc=0xdef'
expect_eq "$T_RC" 0 "conn add 1 ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5006" --chain 'header-stats'
expect_eq "$T_RC" 0 "conn add 2 ($T_ERR)"

# Bad --listen values are refused before anything starts.
expect_error 2 "--listen wants PORT, ADDR:PORT" xi run "$IF" --listen nonsense
expect_error 2 "--listen wants PORT, ADDR:PORT" xi run "$IF" --listen 70000

# A port in use: one line, status 1, and no engine started (the queues stay free).
tb_rx python3 -c "
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $PORT)); s.listen(1); open('$T_TMP/busy', 'w').close(); time.sleep(30)" &
BUSY=$!
T_PIDS+=("$BUSY")
for _ in $(seq 100); do [ -e "$T_TMP/busy" ] && break; sleep 0.05; done
expect_error 1 "^xicept: cannot listen on 127.0.0.1:$PORT: Address already in use$" \
  xi run "$IF" --listen "127.0.0.1:$PORT"
kill $(cat "/proc/$BUSY/task/$BUSY/children" 2>/dev/null) "$BUSY" 2>/dev/null
wait "$BUSY" 2>/dev/null

RUN_ARGS="--listen $PORT"
XICEPT_PLUGIN_PATH=$P run_start
grep -q "serving /metrics and /debug/registry on $PORT (port $PORT)" "$RUN_LOG" ||
  fail "no 'serving' line: $(cat "$RUN_LOG")"
t_ok
grep -q "garbage.so" "$RUN_LOG" || fail "the bad plugin was not reported: $(cat "$RUN_LOG")"
t_ok


# Loopback only by default: the interface's own address is not served.
tb_rx curl -s -m 2 -o /dev/null "http://$TB_RX_IP:$PORT/metrics" &&
  fail "--listen PORT answered on $TB_RX_IP"
t_ok

# Methods and paths.
code=$(tb_rx curl -s -m 5 -X POST -o "$T_TMP/post.txt" -D "$T_TMP/post.hdr" -w '%{http_code}' "$URL/metrics")
expect_eq "$code" 405 "POST /metrics"
expect_match "$(cat "$T_TMP/post.txt")" "^method POST not allowed: only GET is served" "405 body"
grep -qi '^Allow: GET' "$T_TMP/post.hdr" || fail "405 without 'Allow: GET': $(cat "$T_TMP/post.hdr")"
t_ok
expect_eq "$(tb_rx curl -s -m 5 -X DELETE -o /dev/null -w '%{http_code}' "$URL/debug/registry")" 405 "DELETE"
expect_eq "$(tb_rx curl -s -m 5 -I -o /dev/null -w '%{http_code}' "$URL/metrics")" 405 "HEAD"
expect_eq "$(tb_rx curl -s -m 5 -o /dev/null -w '%{http_code}' "$URL/nope")" 404 "GET /nope"

# Traffic, and a flood of scrapes while it flows.
tx_capture_start "udp src port 5004"
sink_start 5004 --idle 1 --duration 30
tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc 0x1234 --seq 100 --count 1500 --skip "$SKIP" \
  --rate 500 --from-port 6000 >"$T_TMP/send.json" &
SEND_PID=$!
T_PIDS+=("$SEND_PID")
sleep 0.3
kill -0 "$SEND_PID" 2>/dev/null || fail "the sender ended before the flood"
t0=$(date +%s%N)
for i in 1 2; do
  # 1000 URLs each (the query string tells them apart), 16 at a time.
  tb_rx curl -s --no-progress-meter -m 10 -Z --parallel-max 16 -w '%{stderr}%{http_code}\n' \
    "$URL/metrics?f$i=[1-1000]" >/dev/null 2>"$T_TMP/flood$i.txt" &
  FLOOD[i]=$!
  T_PIDS+=("${FLOOD[i]}")
done
wait "${FLOOD[1]}" "${FLOOD[2]}"
t1=$(date +%s%N)
flood_ms=$(((t1 - t0) / 1000000))
expect_eq "$(cat "$T_TMP"/flood[12].txt | grep -c '^200$')" 2000 \
  "flood requests answered 200 (in $flood_ms ms; codes: $(sort "$T_TMP"/flood[12].txt | uniq -c | xargs))"
wait "$SEND_PID" || fail "xi-rtp-send failed"
tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc 0x5678 --count 50 --rate 1000 --from-port 6000 >/dev/null ||
  fail "xi-rtp-send 0x5678"
tb_tx "$SEND" --to "$TB_RX_IP:5006" --ssrc 0x2222 --count 100 --rate 1000 >/dev/null ||
  fail "xi-rtp-send 0x2222"
sink_wait 5004
sent=$(jq .sent "$T_TMP/send.json")
expect_eq "$sent" 1495 "packets sent"
expect_eq "$(sink_get 5004 4660 packets)" "$sent" "packets at the receiver despite the flood"
sleep 0.6   # the engine adds its losses to xi_losses every 250 ms

xi stats "$IF" --json >"$T_TMP/stats0.json" || fail "xicept stats"
tb_rx curl -s -m 5 -D "$T_TMP/m.hdr" "$URL/metrics" >"$T_TMP/m.txt" || fail "GET /metrics"
xi stats "$IF" --json >"$T_TMP/stats.json" || fail "xicept stats"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$T_TMP/m.hdr" || fail "content type: $(cat "$T_TMP/m.hdr")"
t_ok
promtool check metrics <"$T_TMP/m.txt" >"$T_TMP/promtool.txt" 2>&1 ||
  fail "promtool check metrics: $(cat "$T_TMP/promtool.txt")"
t_ok

# metric 'NAME{LABELS}': the value of one sample, "missing" when absent.
metric() {
  awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print "missing" }' "$T_TMP/m.txt"
}
L="ifname=\"$IF\""
expect_eq "$(metric "xicept_packets_total{$L,conn=\"1\",ssrc=\"4660\"}")" "$sent" "packets_total conn 1"
expect_eq "$(metric "xicept_lost_packets{$L,conn=\"1\",ssrc=\"4660\"}")" 5 "lost_packets conn 1"
expect_eq "$(metric "xicept_ext_highest_seq{$L,conn=\"1\",ssrc=\"4660\"}")" 1599 "ext_highest_seq conn 1"
expect_eq "$(metric "xicept_dropped_packets_total{$L,conn=\"1\",ssrc=\"22136\"}")" 50 "dropped 0x5678"
expect_eq "$(metric "xicept_packets_total{$L,conn=\"2\",ssrc=\"8738\"}")" 100 "packets_total conn 2"
expect_eq "$(metric "xicept_bytes_total{$L,conn=\"2\",ssrc=\"8738\"}")" \
  "$(stats_get 2 8738 bytes)" "bytes_total conn 2 = stats --json"
expect_eq "$(metric "xicept_jitter{$L,conn=\"1\",ssrc=\"4660\"}")" \
  "$(stats_get 1 4660 jitter)" "jitter conn 1 = stats --json"
for fam in xicept_packets_total xicept_bytes_total xicept_lost_packets xicept_jitter \
  xicept_dropped_packets_total xicept_reason_packets_total xicept_userspace_lost_packets_total \
  xicept_nacks_sent_total xicept_receiver_reports_sent_total xicept_registry_size \
  xicept_registry_lookups_total xicept_registry_lookup_misses_total \
  xicept_registry_registrations_total xicept_registry_register_seconds \
  xicept_plugin_load_failures_total xicept_chain_build_seconds; do
  grep -q "^# HELP $fam " "$T_TMP/m.txt" && grep -q "^# TYPE $fam " "$T_TMP/m.txt" ||
    fail "no HELP/TYPE for $fam"
done
t_ok

# Reasons and losses: the numbers 'xicept stats --json' shows just before
# and just after the scrape (the same, but for the odd packet of the
# namespace's own, neighbour discovery, that may come in between); no loss.
for r in $(jq -r '.reasons | keys[]' "$T_TMP/stats.json"); do
  a=$(jq ".reasons.$r" "$T_TMP/stats0.json")
  b=$(jq ".reasons.$r" "$T_TMP/stats.json")
  m=$(metric "xicept_reason_packets_total{$L,reason=\"$r\"}")
  if [ "$a" == "$b" ]; then
    expect_eq "$m" "$a" "reason $r"
  else
    [ "$m" -ge "$a" ] && [ "$m" -le "$b" ] || fail "reason $r: $m, not between $a and $b"
    t_ok
  fi
done
for l in $(jq -r '.losses | keys[]' "$T_TMP/stats.json"); do
  expect_eq "$(metric "xicept_userspace_lost_packets_total{$L,reason=\"$l\"}")" 0 "loss $l"
done

# Registry: sizes from 'registry list', one build per connection, the bad plugin.
n=$(xi --plugin-dir "$P" registry list --json 2>/dev/null | jq ".interceptors | length")
expect_eq "$(metric xicept_registry_size)" "$n" "registry_size"
expect_eq "$(metric xicept_registry_registrations_total)" "$n" "registrations_total"
expect_eq "$(metric xicept_registry_register_seconds_count)" "$n" "registrations timed"
expect_eq "$(metric 'xicept_registry_register_seconds_bucket{le="+Inf"}')" "$n" "registrations: +Inf bucket"
# Loading the good plugin checked its name was free: no lookup, so no miss
# (every chain built here names what exists).
expect_eq "$(grep -c '^xicept_registry_lookup_misses_total{' "$T_TMP/m.txt")" 0 \
  "lookup misses: $(grep '^xicept_registry_lookup_misses_total{' "$T_TMP/m.txt" | xargs)"
expect_eq "$(metric xicept_chain_build_seconds_count)" 2 "chain builds (one per connection)"
expect_eq "$(metric 'xicept_chain_build_seconds_bucket{le="+Inf"}')" 2 "+Inf bucket"
expect_eq "$(metric xicept_chain_build_failures_total)" 0 "chain build failures"
expect_eq "$(metric "xicept_plugin_load_failures_total{file=\"$P/garbage.so\"}")" 1 "plugin failure by file"
lookups=$(metric xicept_registry_lookups_total)
[ "$lookups" -ge 5 ] || fail "registry lookups: $lookups, expected at least the 5 elements built"
t_ok

# /debug/registry
tb_rx curl -s -m 5 "$URL/debug/registry" >"$T_TMP/reg.json" || fail "GET /debug/registry"
expect_eq "$(jq .frozen "$T_TMP/reg.json")" true "frozen"
expect_eq "$(jq '.interceptors | length' "$T_TMP/reg.json")" "$n" "entries"
expect_eq "$(jq -r '[.plugins[] | "\(.path) \(.init_seconds | type)"] | join(";")' "$T_TMP/reg.json")" \
  "$P/good.so number" "plugins: the good one, with its init time"
expect_eq "$(jq -r '.interceptors[] | select(.name == "header-stats") | "\(.kind) \(.version) \(.uses) \(.origin_kind)"' "$T_TMP/reg.json")" \
  "xdp 1.0 2 builtin" "header-stats: kind, version, uses (two connections), origin kind"
expect_match "$(jq -r '.interceptors[] | select(.name == "header-stats") | .origin' "$T_TMP/reg.json")" \
  "header_stats\.c:[0-9]+$" "header-stats origin"
expect_eq "$(jq -r '.interceptors[] | select(.name == "nack-generator") | "\(.uses) \([.keys[].name] | join(","))"' "$T_TMP/reg.json")" \
  "1 size,skip-last-n,max-nacks,interval,streams,ssrc,sender-ssrc" "nack-generator: uses and config keys"
expect_eq "$(jq -r '.interceptors[] | select(.name == "packet-dump") | "\(.uses) \(.keys[0].name) \(.keys[0].required)"' "$T_TMP/reg.json")" \
  "0 dir true" "packet-dump: unused, its required key"

# NACKs and receiver reports: the counters equal what reached the sender.
# Removing connection 1 ends its reports; then the capture is complete.
t_run xi conn del "$IF" 1
expect_eq "$T_RC" 0 "conn del 1 ($T_ERR)"
sleep 0.6
kill -TERM "$CAP"
wait "$CAP"
tb_rx curl -s -m 5 "$URL/metrics" >"$T_TMP/m.txt" || fail "GET /metrics after conn del"
nacks=$(tshark_fields "rtcp.rtpfb.fmt == 1" -e rtcp.rtpfb.fmt | tr ',' '\n' | grep -c '^1$')
rrs=$(tshark_fields "rtcp.pt == 201" -e rtcp.pt | tr ',' '\n' | grep -c '^201$')
[ "$nacks" -ge 3 ] && [ "$rrs" -ge 3 ] || fail "captured $nacks NACKs and $rrs RRs"
expect_eq "$(metric "xicept_nacks_sent_total{$L}")" "$nacks" "nacks_sent_total = NACKs captured"
expect_eq "$(metric "xicept_receiver_reports_sent_total{$L}")" "$rrs" "receiver_reports_sent_total = RRs captured"
expect_eq "$(metric "xicept_packets_total{$L,conn=\"1\",ssrc=\"4660\"}")" missing "conn 1 gone from /metrics"
expect_eq "$(jq -r '.interceptors[] | select(.name == "header-stats") | .uses' \
  <(tb_rx curl -s -m 5 "$URL/debug/registry"))" 1 "header-stats uses after conn del"

run_stop TERM
