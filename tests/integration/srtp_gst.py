#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""GStreamer's SRTP stack (srtpenc, srtpdec: libsrtp2) at one end of the
testbed, for tests/integration/t92_srtp.sh. Every byte of SRTP and SRTCP is
protected and unprotected by those elements: srtpenc's output is pulled from
an appsink and sent on one UDP socket, which udpsrc reads into srtpdec.

  srtp_gst.py KEYFILE LOCAL_IP:PORT REMOTE_IP:PORT [--send-ssrc S --count N
              --skip a,b] [--expect-ssrc S] [--ready F] [--done F] [--stop F]

KEYFILE is xicept's SDES format from this end's point of view ("in": what
the other end sends, "out": what this end sends). With --send-ssrc it sends
N packets of L16 audio (audiotestsrc, 160 samples: 320 payload bytes, RTP
sequence numbers from 1000) through srtpenc, leaving out those at the
offsets --skip (a loss before the wire, as a dropper would make). Whatever
arrives goes through srtpdec: RTP of --expect-ssrc with the caps' keys,
SRTCP of any SSRC with the same keys (request-key). It stops 0.5 s after
the --stop file appears and prints one JSON object: what srtpdec received
and dropped (its stats: a packet that fails authentication is dropped),
what it passed, and what that RTCP said (NACKed sequence numbers, the last
report block about the sent SSRC, sender SSRCs).
"""
import argparse
import base64
import json
import os
import socket
import struct
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
from gi.repository import Gio, Gst, GstApp  # noqa: E402

CIPHERS = {  # profile: (cipher, auth, key + salt bytes)
    "AES_CM_128_HMAC_SHA1_80": ("aes-128-icm", "hmac-sha1-80", 30),
    "AES_CM_128_HMAC_SHA1_32": ("aes-128-icm", "hmac-sha1-32", 30),
    "AEAD_AES_128_GCM": ("aes-128-gcm", "null", 28),
    "AEAD_AES_256_GCM": ("aes-256-gcm", "null", 44),
}


def die(msg):
    sys.exit("srtp_gst: " + msg)


def read_keys(path):
    keys = {}
    for line in open(path):
        f = line.split()
        if len(f) != 3 or f[1] not in CIPHERS or not f[2].startswith("inline:"):
            die("bad key line")
        raw = base64.b64decode(f[2][len("inline:"):], validate=True)
        if len(raw) != CIPHERS[f[1]][2]:
            die("bad key length")
        keys[f[0]] = (f[1], raw)
    if set(keys) != {"in", "out"}:
        die("key file without in or out")
    return keys


def addr(s):
    ip, port = s.rsplit(":", 1)
    return ip, int(port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("keys")
    ap.add_argument("local")
    ap.add_argument("remote")
    ap.add_argument("--send-ssrc", type=lambda v: int(v, 0), default=0)
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--skip", default="")
    ap.add_argument("--expect-ssrc", type=lambda v: int(v, 0), default=0)
    ap.add_argument("--linger", type=float, default=1.5)
    ap.add_argument("--ready", default="")
    ap.add_argument("--done", default="", help="made once this end's sending is over")
    ap.add_argument("--stop", default="", help="stop 0.5 s after this file appears, not when idle")
    a = ap.parse_args()
    keys = read_keys(a.keys)
    skip = {int(x) for x in a.skip.split(",") if x}
    Gst.init(None)

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sock.bind(addr(a.local))
    dest = addr(a.remote)   # not connect(): ICMP errors would reach udpsrc and stop it
    sock.setblocking(False)
    if a.ready:
        open(a.ready, "w").close()

    prof, inkey = keys["in"]
    cipher, auth, _ = CIPHERS[prof]
    params = (f"srtp-key=(buffer){inkey.hex()},srtp-cipher=(string){cipher},"
              f"srtp-auth=(string){auth},srtcp-cipher=(string){cipher},srtcp-auth=(string){auth}")
    # Receiving: udpsrc on this socket -> srtpdec (it tells RTCP from RTP on
    # one port, RFC 5761) -> appsink, RTP and RTCP apart. Not appsrc: srtpdec
    # makes the buffer writable in place and pushes the old one on, which is
    # only right when nothing else holds it (Python's wrapper would).
    gsock = Gio.Socket.new_from_fd(os.dup(sock.fileno()))
    rx = Gst.parse_launch(
        "udpsrc name=src ! srtpdec name=dec "
        "dec.rtp_src ! appsink name=rtp_out emit-signals=false sync=false async=false max-buffers=0 "
        "dec.rtcp_src ! appsink name=rtcp_out emit-signals=false sync=false async=false max-buffers=0")
    src = rx.get_by_name("src")
    src.set_property("socket", gsock)
    src.set_property("caps", Gst.Caps.from_string(
        f"application/x-srtp,ssrc=(uint){a.expect_ssrc or 1},{params}"))
    dec = rx.get_by_name("dec")
    # Any other SSRC (xicept's own, for its SRTCP) gets the same keys. The
    # caps are kept: PyGObject's return of a boxed value shares the ref.
    held = []

    def request_key(_el, ssrc):
        c = Gst.Caps.from_string(f"application/x-srtp,ssrc=(uint){ssrc},{params}")
        held.append(c)
        return c
    dec.connect("request-key", request_key)
    rx.set_state(Gst.State.PLAYING)

    tx = None
    if a.send_ssrc:
        oprof, outkey = keys["out"]
        ocipher, oauth, _ = CIPHERS[oprof]
        tx = Gst.parse_launch(
            f"audiotestsrc num-buffers={a.count} samplesperbuffer=160 is-live=true wave=ticks "
            "! audio/x-raw,format=S16BE,rate=8000,channels=1 "
            f"! rtpL16pay pt=96 ssrc={a.send_ssrc} seqnum-offset=1000 timestamp-offset=0 "
            "min-ptime=20000000 max-ptime=20000000 "
            f"! srtpenc name=enc rtp-cipher={ocipher} rtp-auth={oauth} rtcp-cipher={ocipher} "
            f"rtcp-auth={oauth} "
            "! appsink name=out emit-signals=false sync=false max-buffers=0")
        tx.get_by_name("enc").set_property("key", Gst.Buffer.new_wrapped(outkey))
        tx.set_state(Gst.State.PLAYING)

    res = {"rtp_ok": 0, "rtcp_ok": 0, "sent": 0,
           "sent_bytes": 0, "dropped_seqs": [], "nacked": [], "rr_blocks": 0, "rr_cum_lost": None,
           "rr_ext_highest": None, "rtcp_senders": [], "rtp_seqs": 0, "errors": []}
    seen = set()

    def drain():
        """Counts what srtpdec passed since the last call; True if RTP came."""
        rtp = False
        for name, key in (("rtp_out", "rtp_ok"), ("rtcp_out", "rtcp_ok")):
            while True:
                s = rx.get_by_name(name).try_pull_sample(0)
                if s is None:
                    break
                buf = s.get_buffer()
                res[key] += 1
                p = buf.extract_dup(0, buf.get_size())
                if key == "rtp_ok":
                    rtp = True
                    seen.add(struct.unpack("!H", p[2:4])[0])
                else:
                    read_rtcp(p, a.send_ssrc, res)
        return rtp

    sent_index = 0
    sending = tx is not None
    deadline = time.monotonic() + 60
    last = None
    stop_at = None
    while True:
        now = time.monotonic()
        if not sending and a.done and not os.path.exists(a.done):
            open(a.done, "w").close()
        if a.stop:
            if stop_at is None and os.path.exists(a.stop):
                stop_at = now
            if stop_at is not None and now - stop_at > 0.5:
                break
        elif not sending and last is not None and now - last > a.linger:
            break
        if now > deadline:
            break
        if sending:
            s = tx.get_by_name("out").try_pull_sample(0)
            if s is not None:
                buf = s.get_buffer()
                data = buf.extract_dup(0, buf.get_size())
                seq = struct.unpack("!H", data[2:4])[0]
                if sent_index in skip:
                    res["dropped_seqs"].append(seq)
                else:
                    try:
                        sock.sendto(data, dest)
                    except OSError:
                        pass
                    res["sent"] += 1
                    res["sent_bytes"] += len(data)
                sent_index += 1
                last = time.monotonic()
                continue
            msg = tx.get_bus().pop_filtered(Gst.MessageType.EOS | Gst.MessageType.ERROR)
            if msg is not None:
                if msg.type == Gst.MessageType.ERROR:
                    die("sender: %s" % (msg.parse_error()[0].message,))
                # What srtpenc still holds comes out before EOS reaches appsink.
                sending = False
                last = time.monotonic()
                continue
        time.sleep(0.005)
        if drain():
            last = time.monotonic()
        msg = rx.get_bus().pop_filtered(Gst.MessageType.ERROR)
        if msg is not None:
            die("receiver: %s" % (msg.parse_error()[0].message,))
    # The last buffers srtpdec passed.
    time.sleep(0.2)
    drain()
    res["rtp_seqs"] = len(seen)
    st = dec.get_property("stats")
    ok, res["received"] = st.get_uint("recv-count")
    ok2, res["dropped"] = st.get_uint("recv-drop-count")
    if not ok or not ok2:
        res["errors"].append("srtpdec stats without recv-count/recv-drop-count: %s" % st.to_string())
    res["rtcp_senders"] = sorted(set(res["rtcp_senders"]))
    rx.set_state(Gst.State.NULL)
    if tx is not None:
        tx.set_state(Gst.State.NULL)
    print(json.dumps(res), flush=True)
    os._exit(0)   # no finalisers on the caps handed to srtpdec


def read_rtcp(p, ssrc, res):
    """An unprotected compound: NACKs (RFC 4585) and report blocks (RFC 3550)."""
    if len(p) >= 8:
        res["rtcp_senders"].append(struct.unpack("!I", p[4:8])[0])
    off = 0
    while off + 4 <= len(p):
        b0, pt, words = struct.unpack("!BBH", p[off:off + 4])
        end = off + 4 * (words + 1)
        if end > len(p):
            res["errors"].append("rtcp overrun")
            return
        if pt in (200, 201):
            first = off + (28 if pt == 200 else 8)
            for i in range(b0 & 0x1f):
                blk = p[first + 24 * i:first + 24 * (i + 1)]
                if len(blk) == 24 and struct.unpack("!I", blk[0:4])[0] == ssrc:
                    res["rr_blocks"] += 1
                    res["rr_cum_lost"] = int.from_bytes(blk[5:8], "big", signed=True)
                    res["rr_ext_highest"] = struct.unpack("!I", blk[8:12])[0]
        elif pt == 205 and b0 & 0x1f == 1:
            for i in range(off + 12, end, 4):
                pid, blp = struct.unpack("!HH", p[i:i + 4])
                res["nacked"].append(pid)
                res["nacked"] += [(pid + 1 + b) & 0xffff for b in range(16) if blp >> b & 1]
        off = end


if __name__ == "__main__":
    main()
