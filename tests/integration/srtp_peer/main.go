// SPDX-License-Identifier: MIT
//
// srtp_peer: the pion side of tests/integration/t92_srtp.sh, a real SRTP
// stack (pion/dtls, pion/srtp, pion/rtp, pion/rtcp: the ones pion/webrtc
// runs a call on) at either end of the testbed's veth pair.
//
//	srtp_peer dtls -role client|server -local IP:PORT -remote IP:PORT \
//	    -profile NAME -out FILE
//
// runs a real DTLS 1.2 handshake with use_srtp (RFC 5764) against the other
// role, exports EXTRACTOR-dtls_srtp and maps it by the DTLS role, as
// pion/webrtc does (srtp.Config.ExtractSessionKeysFromDTLS), into FILE
// (mode 600) in xicept's SDES format, from this end's point of view: "in"
// what the other end sends, "out" what this end sends.
//
//	srtp_peer peer -keys FILE -local IP:PORT -remote IP:PORT [-send-ssrc S
//	    -count N -size B -skip a,b -sr] [-nack-ssrc S -nack a,b -after N]
//	    [-linger D] [-ready FILE]
//
// binds IP:PORT and reads everything that arrives through the keys' "in"
// contexts (replay protection on, as pion/webrtc has it), while it sends N
// SRTP packets of S (sequence numbers 1000 up, those at the offsets -skip
// left out, payload B bytes of a known pattern) with the "out" keys, then,
// with -sr, one SRTCP sender report. With -nack it sends, once it has read
// -after RTP packets, one SRTCP NACK for the sequence numbers given. It
// stops -linger after the last datagram and prints one JSON object: what it
// authenticated and what not, every NACK's sequence numbers, the last
// receiver report block about S, RTX packets (their OSN and whether the
// payload is the original's).
package main

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/dtls/v2"
	"github.com/pion/dtls/v2/pkg/crypto/selfsign"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v2"
)

var profiles = map[string]struct {
	dtls dtls.SRTPProtectionProfile
	srtp srtp.ProtectionProfile
	key  int
	salt int
}{
	"AES_CM_128_HMAC_SHA1_80": {dtls.SRTP_AES128_CM_HMAC_SHA1_80, srtp.ProtectionProfileAes128CmHmacSha1_80, 16, 14},
	"AES_CM_128_HMAC_SHA1_32": {dtls.SRTP_AES128_CM_HMAC_SHA1_32, srtp.ProtectionProfileAes128CmHmacSha1_32, 16, 14},
	"AEAD_AES_128_GCM":        {dtls.SRTP_AEAD_AES_128_GCM, srtp.ProtectionProfileAeadAes128Gcm, 16, 12},
}

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "srtp_peer: "+format+"\n", a...)
	os.Exit(1)
}

func udp(local, remote string) *net.UDPConn {
	la, err := net.ResolveUDPAddr("udp4", local)
	if err != nil {
		die("%v", err)
	}
	ra, err := net.ResolveUDPAddr("udp4", remote)
	if err != nil {
		die("%v", err)
	}
	c, err := net.DialUDP("udp4", la, ra)
	if err != nil {
		die("%v", err)
	}
	return c
}

func cmdDTLS(args []string) {
	fs := flag.NewFlagSet("dtls", flag.ExitOnError)
	role := fs.String("role", "", "client or server")
	local := fs.String("local", "", "IP:PORT")
	remote := fs.String("remote", "", "IP:PORT")
	name := fs.String("profile", "", "SRTP profile")
	out := fs.String("out", "", "key file")
	ready := fs.String("ready", "", "file made once bound")
	_ = fs.Parse(args)
	p, ok := profiles[*name]
	if !ok {
		die("unknown profile %q", *name)
	}
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		die("%v", err)
	}
	cfg := &dtls.Config{
		Certificates:           []tls.Certificate{cert},
		InsecureSkipVerify:     true,
		SRTPProtectionProfiles: []dtls.SRTPProtectionProfile{p.dtls},
		ExtendedMasterSecret:   dtls.RequireExtendedMasterSecret,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var conn *dtls.Conn
	nc := udp(*local, *remote)
	if *ready != "" {
		_ = os.WriteFile(*ready, nil, 0o600)
	}
	switch *role {
	case "client":
		conn, err = dtls.ClientWithContext(ctx, nc, cfg)
	case "server":
		conn, err = dtls.ServerWithContext(ctx, nc, cfg)
	default:
		die("-role client|server")
	}
	if err != nil {
		die("DTLS handshake: %v", err)
	}
	sel, ok := conn.SelectedSRTPProtectionProfile()
	if !ok || sel != p.dtls {
		die("DTLS negotiated no or another SRTP profile (%v)", sel)
	}
	state := conn.ConnectionState()
	sc := srtp.Config{Profile: p.srtp}
	if err := sc.ExtractSessionKeysFromDTLS(&state, *role == "client"); err != nil {
		die("EXTRACTOR-dtls_srtp: %v", err)
	}
	b64 := func(k, s []byte) string {
		return base64.StdEncoding.EncodeToString(append(append([]byte{}, k...), s...))
	}
	text := fmt.Sprintf("in %s inline:%s\nout %s inline:%s\n",
		*name, b64(sc.Keys.RemoteMasterKey, sc.Keys.RemoteMasterSalt),
		*name, b64(sc.Keys.LocalMasterKey, sc.Keys.LocalMasterSalt))
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		die("%v", err)
	}
	if err := os.Rename(tmp, *out); err != nil {
		die("%v", err)
	}
	// Both ends have their keys before either closes.
	time.Sleep(200 * time.Millisecond)
	_ = conn.Close()
}

type keys struct {
	profile  string
	in, out  []byte
	pp       srtp.ProtectionProfile
	key, slt int
}

func readKeys(path string) keys {
	data, err := os.ReadFile(path)
	if err != nil {
		die("%v", err)
	}
	var k keys
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || !strings.HasPrefix(f[2], "inline:") {
			die("bad key line")
		}
		p, ok := profiles[f[1]]
		if !ok {
			die("unknown profile %q", f[1])
		}
		k.profile, k.pp, k.key, k.slt = f[1], p.srtp, p.key, p.salt
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(f[2], "inline:"))
		if err != nil || len(raw) != p.key+p.salt {
			die("bad key")
		}
		if f[0] == "in" {
			k.in = raw
		} else {
			k.out = raw
		}
	}
	if k.in == nil || k.out == nil {
		die("key file without in or out")
	}
	return k
}

func (k keys) ctx(raw []byte) *srtp.Context {
	c, err := srtp.CreateContext(raw[:k.key], raw[k.key:], k.pp,
		srtp.SRTPReplayProtection(1024), srtp.SRTCPReplayProtection(1024))
	if err != nil {
		die("%v", err)
	}
	return c
}

func seqList(s string) []int {
	var r []int
	for _, f := range strings.Split(s, ",") {
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			die("bad list %q", s)
		}
		r = append(r, v)
	}
	return r
}

func payload(seq uint16, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(int(seq)*7 + i)
	}
	return b
}

type report struct {
	SRTPOK       int            `json:"srtp_ok"`
	SRTCPOK      int            `json:"srtcp_ok"`
	AuthFail     int            `json:"auth_fail"`
	Errors       []string       `json:"errors"`
	RTPBySSRC    map[string]int `json:"rtp_by_ssrc"`
	RTCPSenders  []uint32       `json:"rtcp_senders"`
	Nacked       []int          `json:"nacked"`
	NackMedia    []uint32       `json:"nack_media"`
	RRs          int            `json:"rr_blocks"`
	RRLost       int32          `json:"rr_cum_lost"`
	RRHighest    uint32         `json:"rr_ext_highest"`
	RRLSR        uint32         `json:"rr_lsr"`
	SRLSR        uint32         `json:"sr_lsr"`
	RTXOSN       []int          `json:"rtx_osn"`
	RTXPT        []int          `json:"rtx_pt"`
	RTXSame      bool           `json:"rtx_same_payload"`
	MediaSeqs    int            `json:"media_seqs"`
	MediaSamePay bool           `json:"media_same_payload"`
	Sent         int            `json:"sent"`
	SentNACKs    int            `json:"sent_nacks"`
}

func cmdPeer(args []string) {
	fs := flag.NewFlagSet("peer", flag.ExitOnError)
	keyFile := fs.String("keys", "", "key file")
	local := fs.String("local", "", "IP:PORT")
	remote := fs.String("remote", "", "IP:PORT")
	sendSSRC := fs.Uint("send-ssrc", 0, "SSRC to send")
	count := fs.Int("count", 0, "packets to send")
	size := fs.Int("size", 100, "payload bytes")
	skip := fs.String("skip", "", "offsets not sent")
	sendSR := fs.Bool("sr", false, "send an SRTCP SR after the media")
	nackSSRC := fs.Uint("nack-ssrc", 0, "media SSRC to NACK")
	nack := fs.String("nack", "", "sequence numbers to NACK")
	after := fs.Int("after", 0, "RTP packets to read before the NACK")
	rtxSSRC := fs.Uint("rtx-ssrc", 0, "RTX SSRC expected")
	linger := fs.Duration("linger", 1500*time.Millisecond, "idle time before the end")
	ready := fs.String("ready", "", "file made once bound")
	doneFile := fs.String("done", "", "file made once this end's sending (and the RTX its NACK asks for) is over")
	stop := fs.String("stop", "", "stop 0.5 s after this file appears, not when idle")
	_ = fs.Parse(args)
	k := readKeys(*keyFile)
	rx, tx := k.ctx(k.in), k.ctx(k.out)
	conn := udp(*local, *remote)
	_ = conn.SetReadBuffer(1 << 22)
	if *ready != "" {
		_ = os.WriteFile(*ready, nil, 0o600)
	}
	rep := report{RTPBySSRC: map[string]int{}, RTXSame: true, MediaSamePay: true,
		Errors: []string{}, Nacked: []int{}, NackMedia: []uint32{}, RTCPSenders: []uint32{},
		RTXOSN: []int{}, RTXPT: []int{}}
	var mu sync.Mutex
	var last time.Time // the last RTP in or out, or NACK out: RTCP alone does not keep it going
	var srNTP uint64
	nackSent := false
	sendNack := func() {
		seqs := seqList(*nack)
		s16 := make([]uint16, len(seqs))
		for i, v := range seqs {
			s16[i] = uint16(v)
		}
		p := &rtcp.TransportLayerNack{SenderSSRC: 0xfeed, MediaSSRC: uint32(*nackSSRC),
			Nacks: rtcp.NackPairsFromSequenceNumbers(s16)}
		plain, _ := rtcp.Marshal([]rtcp.Packet{p})
		enc, err := tx.EncryptRTCP(nil, plain, nil)
		if err != nil {
			die("%v", err)
		}
		_, _ = conn.Write(enc)
		rep.SentNACKs++
		last = time.Now()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		seen := map[uint16]bool{}
		rtpCount := 0
		start := time.Now()
		var stopAt time.Time
		for {
			mu.Lock()
			idle := !last.IsZero() && time.Since(last) > *linger
			mu.Unlock()
			if *stop != "" {
				idle = false
				if stopAt.IsZero() {
					if _, err := os.Stat(*stop); err == nil {
						stopAt = time.Now()
					}
				} else if time.Since(stopAt) > 500*time.Millisecond {
					return
				}
			}
			if idle || time.Since(start) > 60*time.Second {
				return
			}
			_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			n, err := conn.Read(buf)
			if err != nil {
				// A timeout, or an ICMP error of an earlier datagram.
				continue
			}
			d := append([]byte{}, buf[:n]...)
			mu.Lock()
			if n >= 2 && d[1] >= 192 && d[1] <= 223 {
				plain, err := rx.DecryptRTCP(nil, d, nil)
				if err != nil {
					rep.AuthFail++
					rep.Errors = append(rep.Errors, "srtcp: "+err.Error())
					mu.Unlock()
					continue
				}
				rep.SRTCPOK++
				pkts, err := rtcp.Unmarshal(plain)
				if err != nil {
					rep.Errors = append(rep.Errors, "rtcp: "+err.Error())
				}
				if len(plain) >= 8 {
					rep.RTCPSenders = append(rep.RTCPSenders, binary.BigEndian.Uint32(plain[4:8]))
				}
				for _, p := range pkts {
					switch p := p.(type) {
					case *rtcp.TransportLayerNack:
						rep.NackMedia = append(rep.NackMedia, p.MediaSSRC)
						for _, pair := range p.Nacks {
							for _, s := range pair.PacketList() {
								rep.Nacked = append(rep.Nacked, int(s))
							}
						}
					case *rtcp.ReceiverReport:
						for _, r := range p.Reports {
							if r.SSRC == uint32(*sendSSRC) {
								rep.RRs++
								rep.RRLost = int32(r.TotalLost)
								rep.RRHighest = r.LastSequenceNumber
								rep.RRLSR = r.LastSenderReport
							}
						}
					}
				}
			} else {
				var h rtp.Header
				if _, err := h.Unmarshal(d); err != nil {
					rep.Errors = append(rep.Errors, "rtp: "+err.Error())
					mu.Unlock()
					continue
				}
				plain, err := rx.DecryptRTP(nil, d, nil)
				if err != nil {
					rep.AuthFail++
					rep.Errors = append(rep.Errors, "srtp: "+err.Error())
					mu.Unlock()
					continue
				}
				rep.SRTPOK++
				last = time.Now()
				var pk rtp.Packet
				if err := pk.Unmarshal(plain); err != nil {
					rep.Errors = append(rep.Errors, "rtp: "+err.Error())
					mu.Unlock()
					continue
				}
				rep.RTPBySSRC[strconv.FormatUint(uint64(pk.SSRC), 10)]++
				if *rtxSSRC != 0 && pk.SSRC == uint32(*rtxSSRC) {
					osn := binary.BigEndian.Uint16(pk.Payload[0:2])
					rep.RTXOSN = append(rep.RTXOSN, int(osn))
					rep.RTXPT = append(rep.RTXPT, int(pk.PayloadType))
					if string(pk.Payload[2:]) != string(payload(osn, len(pk.Payload)-2)) {
						rep.RTXSame = false
					}
				} else {
					if !seen[pk.SequenceNumber] {
						seen[pk.SequenceNumber] = true
						rep.MediaSeqs++
					}
					if string(pk.Payload) != string(payload(pk.SequenceNumber, len(pk.Payload))) {
						rep.MediaSamePay = false
					}
					rtpCount++
					if *nack != "" && !nackSent && rtpCount >= *after {
						nackSent = true
						time.AfterFunc(300*time.Millisecond, func() {
							mu.Lock()
							sendNack()
							mu.Unlock()
						})
					}
				}
			}
			mu.Unlock()
		}
	}()

	skips := map[int]bool{}
	for _, o := range seqList(*skip) {
		skips[o] = true
	}
	var lastHdr rtp.Header
	for i := 0; i < *count; i++ {
		h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(1000 + i),
			Timestamp: uint32(3000 * i), SSRC: uint32(*sendSSRC), Marker: i%10 == 9}
		lastHdr = h
		if skips[i] {
			continue
		}
		plain, _ := (&rtp.Packet{Header: h, Payload: payload(h.SequenceNumber, *size)}).Marshal()
		mu.Lock()
		enc, err := tx.EncryptRTP(nil, plain, nil)
		mu.Unlock()
		if err != nil {
			die("%v", err)
		}
		_, _ = conn.Write(enc) // an ICMP error of an earlier one may come back here
		mu.Lock()
		rep.Sent++
		last = time.Now()
		mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	if *sendSR {
		srNTP = 0x0123456789abcdef
		sr := &rtcp.SenderReport{SSRC: uint32(*sendSSRC), NTPTime: srNTP, RTPTime: lastHdr.Timestamp,
			PacketCount: uint32(rep.Sent), OctetCount: uint32(rep.Sent * *size)}
		plain, _ := rtcp.Marshal([]rtcp.Packet{sr})
		mu.Lock()
		enc, err := tx.EncryptRTCP(nil, plain, nil)
		mu.Unlock()
		if err != nil {
			die("%v", err)
		}
		_, _ = conn.Write(enc)
		rep.SRLSR = uint32(srNTP >> 16)
	}
	if *nack != "" {
		for {
			mu.Lock()
			n := rep.SentNACKs
			mu.Unlock()
			if n > 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(time.Second) // the retransmissions
	}
	if *doneFile != "" {
		_ = os.WriteFile(*doneFile, nil, 0o600)
	}
	<-done
	mu.Lock()
	sort.Slice(rep.RTCPSenders, func(i, j int) bool { return rep.RTCPSenders[i] < rep.RTCPSenders[j] })
	out, _ := json.Marshal(rep)
	mu.Unlock()
	fmt.Println(string(out))
}

func main() {
	if len(os.Args) < 2 {
		die("usage: srtp_peer dtls|peer ...")
	}
	switch os.Args[1] {
	case "dtls":
		cmdDTLS(os.Args[2:])
	case "peer":
		cmdPeer(os.Args[2:])
	default:
		die("unknown command %q", os.Args[1])
	}
}
