# shellcheck shell=bash
# Sourced by the t7x tests of `xicept run` after lib.sh: the daemon, and a
# byte-exact UDP sender and receiver (python3) for "same datagrams" checks.

# run_start: `xicept run $TB_RX_IF` in the rx namespace, ready on return:
# its handlers are installed once it says "running on", and the log is
# appended to, so wait for one more such line than there was (a signal sent
# before that line would hit a daemon that still ignores it).
# nsenter execs, so RUN_PID is the daemon itself (tb_rx would fork a shell).
run_start() {
  local before
  RUN_LOG=$T_TMP/run.log
  before=$(grep -c "running on $TB_RX_IF" "$RUN_LOG" 2>/dev/null)
  before=${before:-0}
  # shellcheck disable=SC2086 # RUN_ARGS: more options for xicept run, split
  nsenter --net="/run/netns/$TB_RX_NS" -- "$XICEPT" run "$TB_RX_IF" ${RUN_ARGS:-} 2>>"$RUN_LOG" &
  RUN_PID=$!
  T_PIDS+=("$RUN_PID")
  for _ in $(seq 100); do
    [ "$(grep -c "running on $TB_RX_IF" "$RUN_LOG" 2>/dev/null)" -gt "$before" ] && return 0
    run_alive || break
    sleep 0.05
  done
  fail "xicept run did not start: $(cat "$RUN_LOG")"
}

# run_alive: the daemon has not exited (a zombie counts as exited).
run_alive() {
  local stat
  stat=$(ps -o stat= -p "$RUN_PID" 2>/dev/null)
  [ -n "$stat" ] && [[ $stat != Z* ]]
}

# tx_capture_start FILTER: dumpcap on the sender's veth into $T_TMP/tx.pcapng,
# ready on return. nsenter execs, so CAP is dumpcap itself; its 30 s
# autostop bounds a stuck test.
tx_capture_start() {
  nsenter --net="/run/netns/$TB_TX_NS" -- dumpcap -q -i "$TB_TX_IF" -f "$1" \
    -a duration:30 -w "$T_TMP/tx.pcapng" 2>"$T_TMP/dumpcap.err" &
  CAP=$!
  T_PIDS+=("$CAP")
  for _ in $(seq 100); do
    grep -q "Capturing on" "$T_TMP/dumpcap.err" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "dumpcap did not start: $(cat "$T_TMP/dumpcap.err")"
}

# run_stop [SIGNAL]: the daemon must exit with status 0 within one second.
run_stop() {
  local sig=${1:-TERM} t0 t1 rc
  t0=$(date +%s%N)
  kill -"$sig" "$RUN_PID" || fail "xicept run is not running"
  # Bounded: a daemon that ignores the signal must fail the test, not hang it.
  for _ in $(seq 40); do
    run_alive || break
    sleep 0.05
  done
  run_alive && fail "xicept run still runs 2 s after SIG$sig"
  wait "$RUN_PID"
  rc=$?
  t1=$(date +%s%N)
  expect_eq "$rc" 0 "xicept run exit status after SIG$sig ($(tail -3 "$RUN_LOG"))"
  [ $(((t1 - t0) / 1000000)) -lt 1000 ] || fail "xicept run took $(((t1 - t0) / 1000000)) ms to stop"
  t_ok
}

# reason NAME: one per-interface counter from 'xicept stats --json'.
reason() {
  xi stats "$TB_RX_IF" --json >"$T_TMP/reasons.json" || fail "xicept stats failed"
  jq -r --arg r "$1" '.reasons[$r] // "missing"' "$T_TMP/reasons.json"
}

# udp_recv PORT FILE: in the rx namespace, writes one line of hex per
# datagram received on $TB_RX_IP:PORT until 1.5 s pass without one (10 s
# at most before the first). Ready when FILE.ready exists.
udp_recv() { udp_recv_at 4 "$TB_RX_IP" "$1" "$2"; }

# udp_recv_at FAMILY IP PORT FILE: the same on IP (4 or 6), with a receive
# buffer large enough that the socket drops nothing.
udp_recv_at() {
  tb_rx python3 - "$@" <<'PY' &
import socket, sys
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
ip, port, out = sys.argv[2], int(sys.argv[3]), sys.argv[4]
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 1 << 23)   # SO_RCVBUFFORCE
s.bind((ip, port))
open(out + ".ready", "w").close()
s.settimeout(10)
with open(out, "w") as f:
    while True:
        try:
            d = s.recv(65535)
        except socket.timeout:
            break
        f.write(d.hex() + "\n")
        s.settimeout(1.5)
PY
  RECV_PID=$!
  T_PIDS+=("$RECV_PID")
  for _ in $(seq 100); do
    [ -e "$4.ready" ] && return 0
    sleep 0.05
  done
  fail "udp receiver on port $3 did not start"
}

# udp_send PORT FILE SSRC COUNT SEED [SRCPORT]: from the tx namespace, COUNT
# RTP packets of SSRC (sequence 1000 up) with random payload bytes and
# lengths (seeded), paced; one line of hex per datagram sent goes to FILE.
udp_send() {
  tb_tx python3 - "$TB_RX_IP" "$1" "$2" "$3" "$4" "$5" "${6:-0}" <<'PY' || fail "udp sender failed"
import random, socket, struct, sys, time
ip, port, out, ssrc, count, seed, sport = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    int(sys.argv[4], 0), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
rnd = random.Random(seed)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", sport))
with open(out, "w") as f:
    for i in range(count):
        hdr = struct.pack("!BBHII", 0x80, 96 | (0x80 if i % 10 == 9 else 0),
                          (1000 + i) & 0xffff, 3000 * i, ssrc)
        body = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 1200)))
        s.sendto(hdr + body, (ip, port))
        f.write((hdr + body).hex() + "\n")
        time.sleep(0.001)
PY
}

# tshark_fields FILTER FIELD...: fields of the packets in tx_capture_start's
# capture that match FILTER, port 5004 decoded as RTCP, checksums checked.
tshark_fields() {
  tshark -r "$T_TMP/tx.pcapng" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
    -d udp.port==5004,rtcp -Y "$1" -T fields -E separator=' ' "${@:2}" 2>/dev/null
}
