#!/usr/bin/env bash
# Two receive queues, two engine threads (issue 9): a veth with two queues on
# each end, transmit packet steering (XPS) on the sender's end mapping CPU 0
# to queue 0 and CPU 1 to queue 1, and four senders of one connection, two
# pinned to each CPU. XDP hands each packet to the socket of the queue it
# arrived on, each socket has its own thread, and the chain's per-SSRC state
# is the connection's: the NACKs list exactly the missing sequence numbers of
# each SSRC, once each, and the last receiver report of each SSRC has its
# exact loss and highest sequence number. The daemon read packets from both
# queues, and its per-queue counts add up to what was sent.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
TB_QUEUES=2
t_setup
[ "$(nproc)" -ge 2 ] || fail "needs two CPUs to spread the senders over two queues"

IF=$TB_RX_IF
COUNT=6000
# SSRC, CPU, source port, sequence numbers not sent.
SENDERS=(
  "0x1111 0 6000 100,200-204"
  "0x2222 0 6002 3000"
  "0x3333 1 6004 50,51,5990"
  "0x4444 1 6006 10-19,4000"
)

# XPS on the sender's end: the queue follows the sending CPU. The sysfs of
# the tx namespace is only visible through `ip netns exec`.
ip netns exec "$TB_TX_NS" sh -c "echo 1 >/sys/class/net/$TB_TX_IF/queues/tx-0/xps_cpus &&
  echo 2 >/sys/class/net/$TB_TX_IF/queues/tx-1/xps_cpus" || fail "cannot set XPS on $TB_TX_IF"

t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
# ssrc-filter after the observers runs in the daemon: the AF_XDP path.
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" \
  --chain 'nack-generator size=8192 interval=20ms max-nacks=1 sender-ssrc=0xabc ! receiver-report interval=300ms sender-ssrc=0xdef ! ssrc-filter mode=deny ssrc=1'
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
expect_eq "$(xi conn list "$IF" --json | jq -r '.connections[0].path')" afxdp "the connection's path"
run_start
grep -q "2 receive queues, 2 threads" "$RUN_LOG" || fail "the daemon does not run two threads: $(tail -2 "$RUN_LOG")"
t_ok
# Each thread delivers on a TX queue of its own of the daemon's veth.
veth=xid$(tb_rx ip -j link show "$IF" | jq '.[0].ifindex')
grep -q "through AF_XDP TX into veth $veth " "$RUN_LOG" || fail "the daemon does not deliver through $veth: $(tail -2 "$RUN_LOG")"
t_ok
expect_eq "$(tb_rx ip -j -d link show "$veth" | jq '.[0].num_tx_queues')" 2 "$veth's TX queues"

tx_capture_start "udp src port 5004"
sink_start 5004 --idle 1 --duration 30
pids=()
for s in "${SENDERS[@]}"; do
  read -r ssrc cpu port skip <<<"$s"
  tb_tx taskset -c "$cpu" "$SEND" --to "$TB_RX_IP:5004" --ssrc "$ssrc" --seq 0 --count "$COUNT" \
    --skip "$skip" --rate 2000 --from-port "$port" >"$T_TMP/send-$ssrc.json" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "xi-rtp-send failed"; done
sink_wait 5004
sleep 0.7   # one more receiver report after the last packet
kill -TERM "$CAP"
wait "$CAP"
run_stop TERM

total=0
for s in "${SENDERS[@]}"; do
  read -r ssrc cpu port skip <<<"$s"
  sent=$(jq .sent "$T_TMP/send-$ssrc.json")
  missing=$(python3 -c "
n = 0
for p in '$skip'.split(','):
    a, _, b = p.partition('-')
    n += int(b or a) - int(a) + 1
print(n)")
  expect_eq "$sent" $((COUNT - missing)) "packets $ssrc sent"
  expect_eq "$(sink_get 5004 $((ssrc)) packets)" "$sent" "packets of $ssrc at the application's socket"
  total=$((total + sent))
done

# Both queues carried packets, and together every one.
line=$(grep -o 'stopped: .*' "$RUN_LOG" | tail -1)
[[ $line =~ ^stopped:\ ([0-9]+)\ frames\ \(queues\ ([0-9]+)\+([0-9]+)\) ]] ||
  fail "no per-queue counts in the daemon's summary: $line"
expect_eq "${BASH_REMATCH[1]}" "$total" "frames the daemon read"
expect_eq "$((BASH_REMATCH[2] + BASH_REMATCH[3]))" "$total" "frames of queue 0 and queue 1"
[ "${BASH_REMATCH[2]}" -gt 0 ] && [ "${BASH_REMATCH[3]}" -gt 0 ] ||
  fail "one queue carried nothing: $line"
t_ok

# Per SSRC: the NACKed sequence numbers, and the last report block.
tshark_fields "rtcp.rtpfb.fmt == 1" -e rtcp.mediassrc -e rtcp.rtpfb.nack_pid >"$T_TMP/nack.txt"
tshark_fields "rtcp.pt == 201" -e rtcp.ssrc.identifier -e rtcp.ssrc.cum_nr \
  -e rtcp.ssrc.high_seq >"$T_TMP/rr.txt"
for s in "${SENDERS[@]}"; do
  read -r ssrc cpu port skip <<<"$s"
  want=$(python3 -c "
s = []
for p in '$skip'.split(','):
    a, _, b = p.partition('-')
    s += range(int(a), int(b or a) + 1)
print(' '.join(map(str, s)))")
  got=$(python3 - "$T_TMP/nack.txt" "$ssrc" <<'PY'
import sys
want = int(sys.argv[2], 16)
out = []
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 2 and int(f[0], 16) == want:
        out += f[1].split(',')
print(' '.join(out))
PY
)
  expect_eq "$got" "$want" "sequence numbers NACKed for $ssrc"
  # The last report block about this SSRC: cumulative lost, highest sequence.
  last=$(python3 - "$T_TMP/rr.txt" "$ssrc" <<'PY'
import sys
want, last = int(sys.argv[2], 16), ''
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) != 3:
        continue
    for ssrc, lost, high in zip(*(x.split(',') for x in f)):
        if int(ssrc, 16) == want:
            last = lost + ' ' + high
print(last)
PY
)
  expect_eq "$last" "$(wc -w <<<"$want") $((COUNT - 1))" "last receiver report on $ssrc (lost, highest)"
done
t_ok
