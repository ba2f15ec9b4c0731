package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"shoal/engine/internal/hdrhist"
)

// Latency, as Redis 7.0 watches it (its latency.c and call()): two
// things under one LATENCY command.
//
// Per-command latency tracking (latency-tracking, on by default): every
// command's run time, as call measures it for INFO commandstats, goes to
// a histogram of the command (or subcommand: client|list has its own),
// made at its first call. INFO latencystats reports the percentiles of
// latency-tracking-info-percentiles; LATENCY HISTOGRAM the cumulative
// distribution over power-of-two buckets of microseconds. Durations are
// recorded in whole microseconds, as Redis records them, in an HDR
// histogram of Redis's shape (engine/internal/hdrhist), so the figures
// read as Redis's do. A command that blocks is recorded when it is served
// or CLIENT UNBLOCK ends its wait, with the time its first run took;
// one that times out or whose client leaves is not, as in Redis.
// Recording costs a few tests and one counter increment per command and
// never allocates once the command's histogram exists.
//
// The latency monitor (latency-monitor-threshold ms, 0 = off): an event
// of at least the threshold is a sample of its class, kept in a history
// of the last 160 samples per class, at most one a second (a later one in
// the same second keeps the larger latency), with the class's all-time
// maximum. The classes Shoal has are those of Redis whose moment it
// shares: "command" and "fast-command" (a command flagged fast), the AOF
// writes the loop makes itself with pwritev (epoll's, and the small ones
// on io_uring: "aof-write" and one of "aof-write-pending-fsync",
// "aof-write-active-child" while a rewrite runs, "aof-write-alone"), the
// fdatasync the loop makes itself with appendfsync always (epoll's, and
// the last one at shutdown: "aof-fsync-always"), and the active expiry
// cycle ("expire-cycle"), and eviction: a whole round of it before a
// command or in the cron ("eviction-cycle") and each key's deletion
// ("eviction-del"). Writes and fsyncs that io_uring runs without the loop
// waiting are no latency of the loop and are not sampled, and the serving
// of a blocked client is not timed (Redis's "command-unblocking").
//
// Ownership: the shard's loop, as everything of the shard.

// The latency monitor's event classes.
const (
	eventCommand        = "command"
	eventFastCommand    = "fast-command"
	eventAOFWrite       = "aof-write"
	eventAOFPendingSync = "aof-write-pending-fsync"
	eventAOFActiveChild = "aof-write-active-child"
	eventAOFAlone       = "aof-write-alone"
	eventAOFSyncAlways  = "aof-fsync-always"
	eventExpireCycle    = "expire-cycle"
	eventEvictionCycle  = "eviction-cycle"
	eventEvictionDel    = "eviction-del"
)

// latencyHistoryLen is the samples kept per event class (Redis's
// LATENCY_TS_LEN).
const latencyHistoryLen = 160

// latencySample is one second's worst latency of a class; time 0 marks
// an empty slot.
type latencySample struct {
	time    int32 // unix seconds
	latency uint32
}

// latencyEvent is the history of one class: a ring of samples, idx the
// next slot to fill.
type latencyEvent struct {
	name    string
	idx     int
	max     uint32 // the largest latency since the class was (re)created
	samples [latencyHistoryLen]latencySample
}

// latencyState is the shard's set of event classes, in the order of
// their first sample.
type latencyState struct {
	events []*latencyEvent
}

func init() {
	tips := []string{"nondeterministic_output", "request_policy:all_nodes", "response_policy:special"}
	flags := FlagAdmin | FlagNoScript | FlagLoading | FlagStale
	register(&Command{Name: "latency", Arity: -2,
		Group: "server", Since: "2.8.13",
		Summary:    "A container for latency diagnostics commands",
		Complexity: "Depends on subcommand.",
		Subs: []*Command{
			{Name: "doctor", Arity: 2, Flags: flags,
				Group: "server", Since: "2.8.13",
				Summary:    "Return a human readable latency analysis report.",
				Complexity: "O(1)",
				Tips:       tips,
				Proc:       latencyDoctorCmd},
			{Name: "graph", Arity: 3, Flags: flags,
				Group: "server", Since: "2.8.13",
				Summary:    "Return a latency graph for the event.",
				Complexity: "O(1)",
				Tips:       tips,
				Syntax:     "event",
				Proc:       latencyGraphCmd},
			{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale,
				Group: "server", Since: "2.8.13",
				Summary:    "Show helpful text about the different subcommands.",
				Complexity: "O(1)",
				Proc:       latencyHelpCmd},
			{Name: "histogram", Arity: -2, Flags: flags,
				Group: "server", Since: "7.0.0",
				Summary:    "Return the cumulative distribution of latencies of a subset of commands or all.",
				Complexity: "O(N) where N is the number of commands with latency information being retrieved.",
				Tips:       tips,
				Syntax:     "[command...]",
				Proc:       latencyHistogramCmd},
			{Name: "history", Arity: 3, Flags: flags,
				Group: "server", Since: "2.8.13",
				Summary:    "Return timestamp-latency samples for the event.",
				Complexity: "O(1)",
				Tips:       tips,
				Syntax:     "event",
				Proc:       latencyHistoryCmd},
			{Name: "latest", Arity: 2, Flags: flags,
				Group: "server", Since: "2.8.13",
				Summary:    "Return the latest latency samples for all events.",
				Complexity: "O(1)",
				Tips:       tips,
				Proc:       latencyLatestCmd},
			{Name: "reset", Arity: -2, Flags: flags,
				Group: "server", Since: "2.8.13",
				Summary:    "Reset latency data for one or more events.",
				Complexity: "O(1)",
				Tips:       []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
				Syntax:     "[event...]",
				Proc:       latencyResetCmd},
		}})
}

// commandLatency takes the run time call measured for cmd (us, whole
// microseconds): a latency monitor sample when it reaches the threshold,
// and the command's histogram, unless the command blocked c (its first
// run, in blockedOn.usec, is recorded when the wait ends). Per command: a few tests and an increment;
// no allocation once cmd has its histogram.
func (s *Shard) commandLatency(c *Client, cmd *Command, us int64) {
	cfg := s.Config
	if cfg.LatencyMonitorThreshold != 0 && us/1000 >= cfg.LatencyMonitorThreshold {
		s.commandEvent(cmd, us/1000)
	}
	if c.blockedByCall() { // recorded when it ends (unblockedLatency)
		return
	}
	if cfg.LatencyTracking {
		cmd.recordLatency(us)
	}
}

// commandEvent records a command at or past the threshold: "fast-command"
// for a command flagged fast, "command" for the others.
func (s *Shard) commandEvent(cmd *Command, ms int64) {
	if cmd.Flags&FlagFast != 0 {
		s.addLatencySample(eventFastCommand, ms)
	} else {
		s.addLatencySample(eventCommand, ms)
	}
}

// recordLatency adds one run of us microseconds to the command's
// histogram, which it makes at the first run (24 KiB, pointer-free).
func (cmd *Command) recordLatency(us int64) {
	h := cmd.lat
	if h == nil {
		h = new(hdrhist.Hist)
		cmd.lat = h
	}
	h.Record(us * 1000)
}

// unblockedLatency records the run of a blocked command that was served
// or unblocked by CLIENT UNBLOCK (b is what it waited for).
func (s *Shard) unblockedLatency(b *blockedOn) {
	if s.Config.LatencyTracking {
		b.cmd.recordLatency(b.usec)
	}
}

// latencyStart begins timing an event the monitor watches: the clock
// when the monitor is on, 0 when it is off (and no clock is read).
func (s *Shard) latencyStart() int64 {
	if s.Config.LatencyMonitorThreshold == 0 {
		return 0
	}
	return nanotime()
}

// latencyEnd ends timing what latencyStart began and records event when
// it took at least the threshold.
func (s *Shard) latencyEnd(event string, start int64) {
	if start != 0 {
		s.latencyIfNeeded(event, (nanotime()-start)/1e6)
	}
}

// latencyIfNeeded records event, which took ms milliseconds, when the
// monitor is on and ms reaches the threshold.
func (s *Shard) latencyIfNeeded(event string, ms int64) {
	if t := s.Config.LatencyMonitorThreshold; t != 0 && ms >= t {
		s.addLatencySample(event, ms)
	}
}

// wallSeconds is the time of day in unix seconds (the shard's clock in
// tests), what a sample is stamped with.
func (s *Shard) wallSeconds() int64 {
	if s.clock != nil {
		return s.clock() / 1000
	}
	return time.Now().Unix()
}

// addLatencySample stores a sample of ms milliseconds for event, making
// the class at its first sample. Within one second only the largest
// sample is kept. O(classes).
func (s *Shard) addLatencySample(event string, ms int64) {
	ev := s.latencyEvent(event)
	if ev == nil {
		ev = &latencyEvent{name: event}
		s.lat.events = append(s.lat.events, ev)
	}
	lat := uint32(ms)
	if ms > int64(ev.max) {
		ev.max = lat
	}
	now := int32(s.wallSeconds())
	prev := &ev.samples[(ev.idx+latencyHistoryLen-1)%latencyHistoryLen]
	if prev.time == now {
		if lat > prev.latency {
			prev.latency = lat
		}
		return
	}
	ev.samples[ev.idx] = latencySample{time: now, latency: lat}
	ev.idx = (ev.idx + 1) % latencyHistoryLen
}

// latencyEvent finds an event class by its exact name; nil when it has no
// sample.
func (s *Shard) latencyEvent(name string) *latencyEvent {
	for _, ev := range s.lat.events {
		if ev.name == name {
			return ev
		}
	}
	return nil
}

// resetLatency forgets the classes whose name is name, ignoring case, or
// every class when name is nil, and returns how many it forgot.
func (s *Shard) resetLatency(name []byte) int {
	n := 0
	kept := s.lat.events[:0]
	for _, ev := range s.lat.events {
		if name == nil || eqFold(name, ev.name) {
			n++
			continue
		}
		kept = append(kept, ev)
	}
	clear(s.lat.events[len(kept):])
	s.lat.events = kept
	return n
}

// LATENCY LATEST: for every class, its name, the time and latency of its
// latest sample and its all-time maximum.
func latencyLatestCmd(s *Shard, c *Client, argv [][]byte) {
	c.ArrayLen(len(s.lat.events))
	for _, ev := range s.lat.events {
		last := ev.samples[(ev.idx+latencyHistoryLen-1)%latencyHistoryLen]
		c.ArrayLen(4)
		c.BulkString(ev.name)
		c.Int(int64(last.time))
		c.Int(int64(last.latency))
		c.Int(int64(ev.max))
	}
}

// LATENCY HISTORY event: the class's samples, oldest first, as (time,
// latency) pairs; none for a class with no sample.
func latencyHistoryCmd(s *Shard, c *Client, argv [][]byte) {
	ev := s.latencyEvent(string(argv[2]))
	if ev == nil {
		c.EmptyArray()
		return
	}
	samples := ev.history()
	c.ArrayLen(len(samples))
	for _, x := range samples {
		c.ArrayLen(2)
		c.Int(int64(x.time))
		c.Int(int64(x.latency))
	}
}

// history is the class's samples, oldest first.
func (ev *latencyEvent) history() []latencySample {
	var out []latencySample
	for j := range latencyHistoryLen {
		x := ev.samples[(ev.idx+j)%latencyHistoryLen]
		if x.time != 0 {
			out = append(out, x)
		}
	}
	return out
}

// LATENCY RESET [event ...]: forgets the classes named (ignoring case), or
// every class, and replies how many it forgot.
func latencyResetCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv) == 2 {
		c.Int(int64(s.resetLatency(nil)))
		return
	}
	n := 0
	for _, name := range argv[2:] {
		n += s.resetLatency(name)
	}
	c.Int(int64(n))
}

// LATENCY HISTOGRAM [command ...]: for each command named (a container
// stands for its subcommands) or, with none named, every command, that
// has a histogram: its count of calls and the cumulative count per
// power-of-two bucket of microseconds. Unknown names are skipped; a name
// given twice is replied twice, as in Redis.
func latencyHistogramCmd(s *Shard, c *Client, argv [][]byte) {
	var list []*Command
	if len(argv) == 2 {
		list = s.trackedCommands()
	} else {
		for _, name := range argv[2:] {
			cmd := s.cmds.lookupFullName(name)
			if cmd == nil {
				continue
			}
			if cmd.lat != nil {
				list = append(list, cmd)
			}
			for _, sub := range cmd.Subs {
				if sub.lat != nil {
					list = append(list, sub)
				}
			}
		}
	}
	c.MapLen(len(list))
	var pts []hdrhist.Point
	for _, cmd := range list {
		c.BulkString(cmd.FullName)
		c.MapLen(2)
		c.BulkString("calls")
		c.Int(cmd.lat.Total())
		c.BulkString("histogram_usec")
		pts = cmd.lat.AppendCumulative(pts[:0], 1024)
		c.MapLen(len(pts))
		for _, p := range pts {
			c.Int(p.Top / 1000)
			c.Int(p.Count)
		}
	}
}

// trackedCommands lists the commands and subcommands that have a
// histogram, by full name.
func (s *Shard) trackedCommands() []*Command {
	var list []*Command
	for _, cmd := range s.cmds.sorted {
		if cmd.lat != nil {
			list = append(list, cmd)
		}
		for _, sub := range cmd.Subs {
			if sub.lat != nil {
				list = append(list, sub)
			}
		}
	}
	slices.SortFunc(list, func(a, b *Command) int { return strings.Compare(a.FullName, b.FullName) })
	return list
}

// resetLatencyHistograms drops every command's histogram (CONFIG
// RESETSTAT).
func (s *Shard) resetLatencyHistograms() {
	for _, cmd := range s.cmds.sorted {
		cmd.lat = nil
		for _, sub := range cmd.Subs {
			sub.lat = nil
		}
	}
}

// infoLatencyStats writes INFO latencystats: a line of percentiles per
// command with a histogram, nothing when latency-tracking is off.
func (s *Shard) infoLatencyStats(w *infoWriter) {
	if !s.Config.LatencyTracking {
		return
	}
	var b []byte
	for _, cmd := range s.trackedCommands() {
		b = b[:0]
		for i, p := range s.Config.LatencyTrackingPercentiles {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, 'p')
			b = appendPercentile(b, p)
			b = append(b, '=')
			b = strconv.AppendFloat(b, float64(cmd.lat.ValueAtPercentile(p))/1000, 'f', 3, 64)
		}
		w.kv("latency_percentiles_usec_"+cmd.FullName, string(b))
	}
}

// appendPercentile writes a percentile as Redis does: "%f" with its
// trailing zeros and point trimmed ("50", "99.9").
func appendPercentile(b []byte, p float64) []byte {
	n := len(b)
	b = strconv.AppendFloat(b, p, 'f', 6, 64)
	if bytes.IndexByte(b[n:], '.') >= 0 {
		b = bytes.TrimRight(b, "0")
		b = bytes.TrimSuffix(b, []byte("."))
	}
	return b
}

func formatPercentiles(ps []float64) string {
	var b []byte
	for i, p := range ps {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendPercentile(b, p)
	}
	return string(b)
}

// parsePercentiles reads latency-tracking-info-percentiles as Redis does:
// the words given, or the one value split at each space (CONFIG SET);
// an empty value is no percentile. Each must be a number in [0, 100].
func parsePercentiles(v []string) ([]float64, error) {
	if len(v) == 1 {
		if v[0] == "" {
			return []float64{}, nil
		}
		v = strings.Split(v[0], " ")
	}
	ps := make([]float64, 0, len(v))
	for _, w := range v {
		p, ok := parseScore([]byte(w))
		if !ok {
			return nil, errors.New("Invalid latency-tracking-info-percentiles parameters")
		}
		if p < 0 || p > 100 {
			return nil, errors.New("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// LATENCY GRAPH event: the class's samples as Redis's ASCII sparkline,
// labelled with how long ago each was.
func latencyGraphCmd(s *Shard, c *Client, argv [][]byte) {
	ev := s.latencyEvent(string(argv[2]))
	if ev == nil {
		c.Error("ERR No samples available for event '" + string(cString(argv[2])) + "'")
		return
	}
	now := s.wallSeconds()
	var spark sparkline
	var lo, hi uint32
	for i, x := range ev.history() {
		if i == 0 {
			lo, hi = x.latency, x.latency
		}
		lo, hi = min(lo, x.latency), max(hi, x.latency)
		spark.add(float64(x.latency), agoLabel(now-int64(x.time)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s - high %d ms, low %d ms (all time high %d ms)\n", ev.name, hi, lo, ev.max)
	b.WriteString(strings.Repeat("-", latencyGraphCols))
	b.WriteByte('\n')
	spark.render(&b, latencyGraphCols, 4)
	c.Verbatim([]byte(b.String()))
}

const latencyGraphCols = 80

// agoLabel is a graph's label for a sample secs seconds old.
func agoLabel(secs int64) string {
	switch {
	case secs < 60:
		return strconv.FormatInt(secs, 10) + "s"
	case secs < 3600:
		return strconv.FormatInt(secs/60, 10) + "m"
	case secs < 86400:
		return strconv.FormatInt(secs/3600, 10) + "h"
	}
	return strconv.FormatInt(secs/86400, 10) + "d"
}

// sparkline is Redis's ASCII sparkline (sparkline.c) with the area under
// the curve filled: each sample a column of rows lines, three steps a
// line ('_', 'o', '#', and '|' below the top), then a blank line and each
// label written downwards under its column.
type sparkline struct {
	values   []float64
	labels   []string
	min, max float64
}

func (sp *sparkline) add(v float64, label string) {
	if len(sp.values) == 0 {
		sp.min, sp.max = v, v
	}
	sp.min, sp.max = min(sp.min, v), max(sp.max, v)
	sp.values = append(sp.values, v)
	sp.labels = append(sp.labels, label)
}

// render writes the sparkline in blocks of at most columns samples, an
// empty line between blocks.
func (sp *sparkline) render(b *strings.Builder, columns, rows int) {
	for j := 0; j < len(sp.values); j += columns {
		if j != 0 {
			b.WriteByte('\n')
		}
		sp.renderRange(b, rows, j, min(columns, len(sp.values)-j))
	}
}

func (sp *sparkline) renderRange(b *strings.Builder, rows, off, n int) {
	const fill = "_o#"
	relmax := sp.max - sp.min
	if relmax == 0 {
		relmax = 1
	}
	steps := len(fill) * rows
	chars := make([]byte, n)
	for row := 0; ; row++ {
		more := false
		for j := range chars {
			chars[j] = ' '
		}
		for j := range n {
			if row < rows {
				more = true
				// As C computes it: the product truncated to an int, then
				// divided, then truncated again.
				step := int(float64(int((sp.values[off+j]-sp.min)*float64(steps))) / relmax)
				step = min(max(step, 0), steps-1)
				idx := step - (rows-row-1)*len(fill)
				if idx >= 0 && idx < len(fill) {
					chars[j] = fill[idx]
				} else if idx >= len(fill) {
					chars[j] = '|'
				}
				continue
			}
			if row == rows { // the blank line above the labels
				more = true
				break
			}
			if l := sp.labels[off+j]; len(l) > row-rows-1 {
				more = true
				chars[j] = l[row-rows-1]
			}
		}
		if !more {
			return
		}
		b.Write(chars)
		b.WriteByte('\n')
	}
}

// latencyStats sums up a class's samples for the doctor.
type latencyStats struct {
	samples           int
	avg, mad, min, hi uint32
	period            int64 // seconds from the oldest sample to now, at least 1
}

func (s *Shard) analyzeLatency(ev *latencyEvent) latencyStats {
	var st latencyStats
	var sum uint64
	oldest := int64(0)
	hist := ev.history()
	for i, x := range hist {
		if i == 0 {
			st.min, st.hi = x.latency, x.latency
		}
		st.min, st.hi = min(st.min, x.latency), max(st.hi, x.latency)
		sum += uint64(x.latency)
		if oldest == 0 || int64(x.time) < oldest {
			oldest = int64(x.time)
		}
	}
	st.samples = len(hist)
	if st.samples == 0 {
		return st
	}
	st.avg = uint32(sum / uint64(st.samples))
	if st.period = s.wallSeconds() - oldest; st.period == 0 {
		st.period = 1
	}
	sum = 0
	for _, x := range hist {
		d := int64(st.avg) - int64(x.latency)
		sum += uint64(max(d, -d))
	}
	st.mad = uint32(sum / uint64(st.samples))
	return st
}

// LATENCY DOCTOR: Redis's report on the classes seen, with its advice.
func latencyDoctorCmd(s *Shard, c *Client, argv [][]byte) {
	c.Verbatim([]byte(s.latencyReport()))
}

// The doctor's advice, in the order it gives it.
const (
	adviseSlowlogEnable = iota
	adviseSlowlogTuning
	adviseSlowlogInspect
	adviseScheduler
	adviseLocalDisk
	adviseSSD
	adviseDataWriteback
	adviseDiskContention
	adviseNoAppendfsync
	adviseRelaxFsync
	adviseHz
	adviseLargeObjects
	adviseMassEviction
	adviseDisableTHP
	adviceKinds
)

func (s *Shard) latencyReport() string {
	if len(s.lat.events) == 0 && s.Config.LatencyMonitorThreshold == 0 {
		return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. " +
			"You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. " +
			"If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
	}
	var b strings.Builder
	var advise [adviceKinds]bool
	advices := 0
	give := func(kinds ...int) {
		for _, k := range kinds {
			advise[k] = true
		}
		advices += len(kinds)
	}
	thr := s.Config.LatencyMonitorThreshold
	for i, ev := range s.lat.events {
		if i == 0 {
			b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
		}
		st := s.analyzeLatency(ev)
		fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %.2f sec). Worst all time event %dms.",
			i+1, ev.name, st.samples, st.avg, st.mad, float64(st.period)/float64(st.samples), ev.max)
		switch ev.name {
		case eventCommand:
			if slower, ok := s.slowlogSlowerThan(); ok {
				if slower < 0 {
					give(adviseSlowlogEnable)
				} else if slower/1000 > thr {
					give(adviseSlowlogTuning)
				}
			}
			give(adviseSlowlogInspect, adviseLargeObjects)
		case eventFastCommand:
			give(adviseScheduler)
		case eventAOFPendingSync:
			give(adviseLocalDisk, adviseDiskContention, adviseSSD, adviseDataWriteback)
		case eventAOFActiveChild:
			give(adviseNoAppendfsync, adviseDataWriteback, adviseSSD)
		case eventAOFAlone:
			give(adviseLocalDisk, adviseDataWriteback, adviseSSD)
		case eventAOFSyncAlways:
			give(adviseRelaxFsync)
		case eventExpireCycle:
			give(adviseHz, adviseLargeObjects)
		case eventEvictionDel:
			give(adviseLargeObjects)
		case eventEvictionCycle:
			give(adviseMassEviction)
		}
		b.WriteByte('\n')
	}
	if anonHugePages() > 0 {
		give(adviseDisableTHP)
	}
	switch {
	case len(s.lat.events) == 0 && advices == 0:
		b.WriteString("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. " +
			"I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")
	case len(s.lat.events) > 0 && advices == 0:
		b.WriteString("\nWhile there are latency events logged, I'm not able to suggest any easy fix. " +
			"Please use the Redis community to get some help, providing this report in your help request.\n")
	default:
		b.WriteString("\nI have a few advices for you:\n\n")
		for k, on := range advise {
			if !on {
				continue
			}
			switch k {
			case adviseRelaxFsync:
				if s.fsyncPolicy() != fsyncAlways {
					continue
				}
			case adviseHz:
				if s.Config.Hz >= 100 {
					continue
				}
			}
			b.WriteString(adviceText(k, thr))
		}
	}
	return b.String()
}

// slowlogSlowerThan is slowlog-log-slower-than in microseconds, when the
// shard has that parameter.
func (s *Shard) slowlogSlowerThan() (int64, bool) {
	p := findParam("slowlog-log-slower-than")
	if p == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(p.get(s.Config), 10, 64)
	return n, err == nil
}

// adviceText is the doctor's text for one kind of advice (thr: the
// monitor's threshold in ms).
func adviceText(k int, thr int64) string {
	switch k {
	case adviseSlowlogEnable:
		return fmt.Sprintf("- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than %d'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n", uint64(thr)*1000)
	case adviseSlowlogTuning:
		return fmt.Sprintf("- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than %d'.\n", uint64(thr)*1000)
	case adviseSlowlogInspect:
		return "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n"
	case adviseScheduler:
		return "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n" +
			"  1) Lower the system load.\n" +
			"  2) Use a computer / VM just for Redis if you are running other software in the same system.\n" +
			"  3) Check if you have a \"noisy neighbour\" problem.\n" +
			"  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n" +
			"  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n"
	case adviseLocalDisk:
		return "- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n"
	case adviseSSD:
		return "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n"
	case adviseDataWriteback:
		return "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n"
	case adviseDiskContention:
		return "- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n"
	case adviseNoAppendfsync:
		return "- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).\n"
	case adviseRelaxFsync:
		return "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n"
	case adviseHz:
		return "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n"
	case adviseLargeObjects:
		return "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n"
	case adviseMassEviction:
		return "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n"
	case adviseDisableTHP:
		return "- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n"
	}
	return ""
}

// anonHugePages is the process's transparent huge pages in kB (tests fix
// it, so that their reports do not depend on the machine).
var anonHugePages = readAnonHugePages

// readAnonHugePages sums AnonHugePages over the process's mappings, as
// Redis reads /proc/self/smaps; 0 when unknown.
func readAnonHugePages() int64 {
	f, err := os.Open("/proc/self/smaps_rollup")
	if err != nil {
		if f, err = os.Open("/proc/self/smaps"); err != nil {
			return 0
		}
	}
	defer f.Close()
	var kb int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("AnonHugePages:")); ok {
			n, _ := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("kB")))), 10, 64)
			kb += n
		}
	}
	return kb
}

// latencyHelp is Redis's LATENCY HELP text.
var latencyHelp = []string{
	"DOCTOR",
	"    Return a human readable latency analysis report.",
	"GRAPH <event>",
	"    Return an ASCII latency graph for the <event> class.",
	"HISTORY <event>",
	"    Return time-latency samples for the <event> class.",
	"LATEST",
	"    Return the latest latency samples for all events.",
	"RESET [<event> ...]",
	"    Reset latency data of one or more <event> classes.",
	"    (default: reset all data for all event classes)",
	"HISTOGRAM [COMMAND ...]",
	"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
	"    If no commands are specified then all histograms are replied.",
}

func latencyHelpCmd(s *Shard, c *Client, argv [][]byte) {
	replyHelp(c, "LATENCY", latencyHelp)
}
