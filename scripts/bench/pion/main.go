// SPDX-License-Identifier: MIT
//
// pion-bench: the pion/interceptor side of `make bench-user`. It reads N
// synthetic RTP packets of one SSRC, with every sequence number where
// seq % 100 == 37 missing, through nack.GeneratorInterceptor and
// report.ReceiverInterceptor built from an interceptor.Registry, exactly as
// tests/user/bench_user.c does through xicept's chain, and prints one
// "result" line that scripts/bench/bench-user.sh turns into a table.
//
// pion's interceptors tick on wall time in their own goroutines, so the
// intervals here are wall durations; the report's arrival clock is the
// synthetic one (ReceiverNow), as xicept's is (XI_ATTR_ARRIVAL_NS). Leave
// GOMAXPROCS at the core count: with one P the tickers only run when the
// reading goroutine is preempted, NACK rounds come too seldom to cover the
// losses, and the checks fail.
//
// -stats adds stats.Interceptor last (what xicept's header-stats does), for
// `make bench`; the clock then stops when its count has caught up.
//
// Exits 1 when a work check fails.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/stats"
	"github.com/pion/rtcp"
)

const (
	mediaSSRC  = 0x5eed0001
	payloadLen = 1200
	headerLen  = 12
	tsStep     = 3000      // 90 kHz, one packet per 30 fps frame
	frameNs    = 100000000 // ns per 3 frames: tsStep at 90 kHz is 33.3 ms
	lossPeriod = 100
	lossPhase  = 37
)

// User and system time of every thread of the process: the goroutines that
// tick and write RTCP, and the garbage collector, count too.
func cpuNs() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func lost(i int) bool { return (i&0xffff)%lossPeriod == lossPhase }

// The packet the next read of the base reader copies out, as an SRTP
// session's read would.
type source struct {
	pkt []byte
}

func newSource() *source {
	s := &source{pkt: make([]byte, headerLen+payloadLen)}
	s.pkt[0] = 0x80
	s.pkt[1] = 96
	binary.BigEndian.PutUint32(s.pkt[8:], mediaSSRC)
	for i := headerLen; i < len(s.pkt); i++ {
		s.pkt[i] = 0xab
	}
	return s
}

func (s *source) set(i int) {
	binary.BigEndian.PutUint16(s.pkt[2:], uint16(i))
	binary.BigEndian.PutUint32(s.pkt[4:], uint32(i*tsStep))
}

// What the interceptors wrote, marshalled as a transport would, with the
// index of the newest packet read when it was written (to place the 16-bit
// sequence numbers of a NACK on the packet index line).
type emitted struct {
	raw    []byte
	latest int64
}

type sink struct {
	mu     sync.Mutex
	pkts   []emitted
	rr     int
	nacks  int
	latest *int64
	rrCh   chan struct{}
}

func (k *sink) Write(pkts []rtcp.Packet, _ interceptor.Attributes) (int, error) {
	raw, err := rtcp.Marshal(pkts)
	if err != nil {
		return 0, err
	}
	k.mu.Lock()
	k.pkts = append(k.pkts, emitted{raw: raw, latest: atomic.LoadInt64(k.latest)})
	for _, p := range pkts {
		switch p.(type) {
		case *rtcp.ReceiverReport:
			k.rr++
		case *rtcp.TransportLayerNack:
			k.nacks++
		}
	}
	k.mu.Unlock()
	if _, ok := pkts[0].(*rtcp.ReceiverReport); ok && k.rrCh != nil {
		select {
		case k.rrCh <- struct{}{}:
		default:
		}
	}
	return len(raw), nil
}

// Waits until more reports than now have been written. The second of two
// was generated after the first was written, so after this call: no packet
// read before it is left out of the reports.
func (k *sink) awaitReports(more int) {
	want, _ := k.counts()
	want += more
	for {
		if rr, _ := k.counts(); rr >= want {
			return
		}
		<-k.rrCh // buffered: a report written since counts() is not missed
	}
}

func (k *sink) counts() (int, int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.rr, k.nacks
}

type params struct {
	n          int
	nackSize   uint16
	nackIv     time.Duration
	rrIv       time.Duration
	pacedBatch int  // > 0: after each batch, wait for two receiver reports
	stats      bool // add stats.Interceptor (as xicept's header-stats) last
}

type run struct {
	nsPerPkt  float64
	cpuPerPkt float64 // CPU time of the whole process (all threads) per packet
	read      int
	rr        int
	nacks     int
	lastRR    rtcp.ReceptionReport
	haveRR    bool
	nackSeqs  int
	nacked    int // lost packets NACKed
	uncovered int // lost, surely in view of a NACK round, not NACKed
	missed    int // lost, never surely in view of a round
	spurious  int
}

func build(p params, clock *int64, k *sink) (interceptor.Interceptor, stats.Getter, error) {
	gen, err := nack.NewGeneratorInterceptor(nack.GeneratorSize(p.nackSize),
		nack.GeneratorInterval(p.nackIv))
	if err != nil {
		return nil, nil, err
	}
	rep, err := report.NewReceiverInterceptor(report.ReceiverInterval(p.rrIv),
		report.ReceiverNow(func() time.Time { return time.Unix(0, atomic.LoadInt64(clock)) }))
	if err != nil {
		return nil, nil, err
	}
	reg := interceptor.Registry{}
	reg.Add(gen)
	reg.Add(rep)
	var getter stats.Getter
	if p.stats {
		sf, err := stats.NewInterceptor(stats.SetNowFunc(func() time.Time {
			return time.Unix(0, atomic.LoadInt64(clock))
		}))
		if err != nil {
			return nil, nil, err
		}
		sf.OnNewPeerConnection(func(_ string, g stats.Getter) { getter = g })
		reg.Add(sf)
	}
	ic, err := reg.Build("bench")
	if err != nil {
		return nil, nil, err
	}
	ic.BindRTCPWriter(k)
	return ic, getter, nil
}

// stats.Interceptor records in a goroutine of its own: the work is done
// when its count has caught up with the reads, so the clock stops then.
func awaitStats(g stats.Getter, read int) error {
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if s := g.Get(mediaSSRC); s != nil && int(s.InboundRTPStreamStats.PacketsReceived) == read {
			return nil
		}
		time.Sleep(50 * time.Microsecond)
	}
	return fmt.Errorf("stats.Interceptor counted fewer than the %d packets read", read)
}

// Waits until the interceptors have written what covers every packet read:
// a report whose extended highest sequence number is the last one read, and
// a NACK started after the reads ended (the second written after then).
func drain(k *sink, finalExt uint32, nacksAtEnd int) error {
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		_, nacks := k.counts()
		if nacks >= nacksAtEnd+2 && lastRRExt(k) == finalExt {
			return nil
		}
		time.Sleep(200 * time.Microsecond)
	}
	rr, nacks := k.counts()
	return fmt.Errorf("no final RR/NACK within 3 s: %d RRs (last ext %d, want %d), %d NACKs (%d at the end)", rr, lastRRExt(k), finalExt, nacks, nacksAtEnd)
}

func lastRRExt(k *sink) uint32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := len(k.pkts) - 1; i >= 0; i-- {
		ps, err := rtcp.Unmarshal(k.pkts[i].raw)
		if err != nil {
			return 0
		}
		if rr, ok := ps[0].(*rtcp.ReceiverReport); ok && len(rr.Reports) == 1 {
			return rr.Reports[0].LastSequenceNumber
		}
	}
	return 0
}

func once(p params) (run, error) {
	var r run
	var clock, latest int64 = 0, -1
	k := &sink{latest: &latest}
	if p.pacedBatch > 0 {
		k.rrCh = make(chan struct{}, 1)
	}
	ic, getter, err := build(p, &clock, k)
	if err != nil {
		return r, err
	}
	src := newSource()
	info := &interceptor.StreamInfo{
		SSRC: mediaSSRC, PayloadType: 96, MimeType: "video/VP8", ClockRate: 90000,
		RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}},
	}
	base := interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		return copy(b, src.pkt), a, nil
	})
	rd := ic.BindRemoteStream(info, base)
	buf := make([]byte, 1500)
	lastRead := -1

	cpu0 := cpuNs()
	start := time.Now()
	var waited time.Duration
	for i := 0; i < p.n; i++ {
		if lost(i) {
			continue
		}
		src.set(i)
		atomic.StoreInt64(&clock, int64(i)*frameNs/3)
		// nil attributes, as pion/webrtc's track reader passes: the
		// first interceptor makes the map.
		n, _, err := rd.Read(buf, nil)
		if err != nil || n != headerLen+payloadLen {
			return r, fmt.Errorf("read %d: n=%d err=%v", i, n, err)
		}
		atomic.StoreInt64(&latest, int64(i))
		r.read++
		lastRead = i
		if p.pacedBatch > 0 && r.read%p.pacedBatch == 0 {
			w := time.Now()
			k.awaitReports(2)
			waited += time.Since(w)
		}
	}
	if getter != nil {
		if err := awaitStats(getter, r.read); err != nil {
			return r, err
		}
	}
	elapsed := time.Since(start) - waited
	r.nsPerPkt = float64(elapsed.Nanoseconds()) / float64(p.n)
	r.cpuPerPkt = float64(cpuNs()-cpu0) / float64(p.n)

	_, nacksAtEnd := k.counts()
	finalExt := uint32(lastRead)
	if err := drain(k, finalExt, nacksAtEnd); err != nil {
		ic.Close()
		return r, err
	}
	if err := ic.Close(); err != nil {
		return r, err
	}
	return r, decode(k, p.n, int64(p.nackSize), &r)
}

// Decodes everything written with pion's rtcp package: the last RR, and the
// sequence numbers the NACKs asked for, placed on the packet index line.
//
// A NACK round sees the log as it was when the ticker fired, which the sink
// cannot know: it only knows the newest packet read when the NACK was
// written, which is later. So a lost packet counts as surely in view of a
// round when the previous round was written after it was read, and it is
// within the log size of the newest packet read when this round was written.
// Every lost packet surely in view of some round must be NACKed; the others
// fell in a gap between two rounds longer than the log (a late ticker) and
// are counted as missed.
func decode(k *sink, n int, size int64, r *run) error {
	covered := make([]bool, n)
	inView := make([]bool, n)
	prev := int64(-1)
	for _, e := range k.pkts {
		ps, err := rtcp.Unmarshal(e.raw)
		if err != nil {
			return err
		}
		for _, p := range ps {
			switch v := p.(type) {
			case *rtcp.ReceiverReport:
				r.rr++
				if len(v.Reports) != 1 || v.Reports[0].SSRC != mediaSSRC {
					return fmt.Errorf("RR with %d blocks", len(v.Reports))
				}
				r.lastRR = v.Reports[0]
				r.haveRR = true
			case *rtcp.TransportLayerNack:
				r.nacks++
				if v.MediaSSRC != mediaSSRC {
					return fmt.Errorf("NACK for SSRC %#x", v.MediaSSRC)
				}
				for i := e.latest - size + 1; i <= prev; i++ {
					if i >= 0 {
						inView[i] = true
					}
				}
				prev = e.latest
				for _, pair := range v.Nacks {
					for _, seq := range pair.PacketList() {
						r.nackSeqs++
						back := int64(uint16(uint16(e.latest) - seq))
						idx := e.latest - back
						if idx < 0 || !lost(int(idx)) {
							r.spurious++
							continue
						}
						covered[idx] = true
					}
				}
			}
		}
	}
	last := n - 1
	for last >= 0 && lost(last) {
		last--
	}
	for i := 0; i < last; i++ {
		switch {
		case !lost(i):
		case covered[i]:
			r.nacked++
		case inView[i]:
			r.uncovered++
		default:
			r.missed++
		}
	}
	return nil
}

func expectedLost(n int) (lostN int, lastRead int) {
	lastRead = -1
	for i := 0; i < n; i++ {
		if lost(i) {
			lostN++
		} else {
			lastRead = i
		}
	}
	return
}

// Losses the receiver can know of: those before the last packet read.
func knowableLost(n int) int {
	_, last := expectedLost(n)
	c := 0
	for i := 0; i < last; i++ {
		if lost(i) {
			c++
		}
	}
	return c
}

// The checks every run must pass; strict adds what only a paced run can
// promise with pion's wall-clock tickers: every lost packet NACKed, and the
// RR's cumulative lost exact.
func check(r run, name string, n int, strict bool) []string {
	var bad []string
	lostN, lastRead := expectedLost(n)
	if r.read != n-lostN {
		bad = append(bad, fmt.Sprintf("%s read %d packets, want %d", name, r.read, n-lostN))
	}
	if !r.haveRR || r.lastRR.LastSequenceNumber != uint32(lastRead) {
		bad = append(bad, fmt.Sprintf("%s: last RR ext highest %d, want %d", name,
			r.lastRR.LastSequenceNumber, lastRead))
	}
	// A late ticker may leave a few losses unasked for; a tenth of them
	// means the generator hardly ran.
	// With stats.Interceptor in the chain pion NACKs, rarely, a number
	// that arrived (seen: 1 to 3 of about 2000 a run); counted, and only a
	// hundredth of the numbers asked for fails.
	spuriousBad := r.spurious != 0
	if spuriousTolerated {
		spuriousBad = r.spurious*100 > r.nackSeqs
	}
	if r.nacks == 0 || r.uncovered != 0 || spuriousBad || r.missed*10 > knowableLost(n) ||
		(strict && r.missed != 0) {
		bad = append(bad, fmt.Sprintf("%s: %d NACKs; %d lost packets in view of a round not NACKed, "+
			"%d missed between rounds, %d NACKed numbers not lost", name, r.nacks, r.uncovered,
			r.missed, r.spurious))
	}
	if strict && int(r.lastRR.TotalLost) != knowableLost(n) {
		bad = append(bad, fmt.Sprintf("%s: RR cumulative lost %d, want %d", name,
			r.lastRR.TotalLost, knowableLost(n)))
	}
	return bad
}

// Set by -stats: see check.
var spuriousTolerated bool

func main() {
	n := flag.Int("n", 1000000, "packets, lost ones included")
	repeats := flag.Int("repeats", 5, "timed repeats (one untimed warm-up first)")
	nackSize := flag.Uint("nack-size", 16384, "nack.GeneratorSize")
	nackIv := flag.Duration("nack-interval", time.Millisecond, "nack.GeneratorInterval (wall)")
	rrIv := flag.Duration("rr-interval", time.Millisecond, "report.ReceiverInterval (wall)")
	paced := flag.Int("paced-n", 70000, "packets of the paced check run (0: skip)")
	withStats := flag.Bool("stats", false, "add stats.Interceptor after the report interceptor")
	flag.Parse()
	if *n < 200 || *repeats < 1 {
		fmt.Fprintln(os.Stderr, "usage: pion-bench [-n packets >= 200] [-repeats >= 1] ...")
		os.Exit(2)
	}

	spuriousTolerated = *withStats
	p := params{n: *n, nackSize: uint16(*nackSize), nackIv: *nackIv, rrIv: *rrIv, stats: *withStats}
	lostN, _ := expectedLost(p.n)
	var failed []string
	var runs []run
	for i := 0; i <= *repeats; i++ {
		r, err := once(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pion-bench: repeat %d: %v\n", i, err)
			os.Exit(1)
		}
		failed = append(failed, check(r, fmt.Sprintf("repeat %d", i), p.n, false)...)
		if i > 0 { // 0 is the untimed warm-up
			runs = append(runs, r)
		}
	}

	ns := make([]float64, len(runs))
	cpu := make([]float64, len(runs))
	big := 1 << 30
	rrMin, rrMax, nkMin, nkMax, lostMin, lostMax, okMin, missed := big, 0, big, 0, big, 0, big, 0
	spurious := 0
	for i, r := range runs {
		ns[i] = r.nsPerPkt
		cpu[i] = r.cpuPerPkt
		rrMin, rrMax = minInt(rrMin, r.rr), maxInt(rrMax, r.rr)
		nkMin, nkMax = minInt(nkMin, r.nacks), maxInt(nkMax, r.nacks)
		l := int(r.lastRR.TotalLost)
		lostMin, lostMax = minInt(lostMin, l), maxInt(lostMax, l)
		okMin = minInt(okMin, r.nacked)
		missed += r.missed
		spurious += r.spurious
	}
	sort.Float64s(ns)
	sort.Float64s(cpu)

	// pion 0.1.12's receiverStream counts losses in a 128-packet window at
	// each report, so its total is only exact when reports come at least
	// every 128 packets; wall-time tickers cannot do that at full speed.
	// The paced run waits for a report after every 50 packets (and so gives
	// the NACK ticker time too): there both must be exact.
	pacedLost := -1
	if *paced > 0 {
		pp := params{n: *paced, nackSize: p.nackSize, nackIv: *nackIv,
			rrIv: 100 * time.Microsecond, pacedBatch: 50}
		r, err := once(pp)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pion-bench: paced run: %v\n", err)
			os.Exit(1)
		}
		failed = append(failed, check(r, "paced run", pp.n, true)...)
		pacedLost = int(r.lastRR.TotalLost)
	}

	fmt.Printf("result side=pion n=%d read=%d want_read=%d lost=%d min=%.1f median=%.1f max=%.1f cpu_median=%.1f "+
		"rr=%d..%d nacks=%d..%d nacked=%d missed=%d rr_cum_lost=%d..%d want_lost=%d "+
		"paced_n=%d paced_lost=%d paced_want=%d spurious=%d checks=%s\n",
		p.n, runs[0].read, p.n-lostN, lostN, ns[0], ns[len(ns)/2], ns[len(ns)-1], cpu[len(cpu)/2],
		rrMin, rrMax, nkMin, nkMax, okMin, missed, lostMin, lostMax, knowableLost(p.n),
		*paced, pacedLost, knowableLost(*paced), spurious,
		map[bool]string{true: "ok", false: "FAIL"}[len(failed) == 0])
	if len(failed) > 0 {
		fmt.Fprintf(os.Stderr, "pion-bench: FAIL: %s\n", strings.Join(failed, "; "))
		os.Exit(1)
	}
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}
