package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The append-only file, as Redis 7 keeps it: a directory (appenddirname)
// holding a manifest, one base file and incremental files (aofmanifest.go).
//
// # Who does what
//
// The engine decides what is written and when: commands feed records to
// aof.buf while they run (propagate.go); the loop takes the buffer once
// per turn with AOFNextWrite and writes it where AOFNextWrite says (the
// current incr file, at the offset given), then reports with
// AOFWriteDone; it asks AOFSyncDue when to fsync and reports AOFSyncDone.
// With io_uring both go through the shard's ring; with epoll the loop
// calls AOFFlushSync, which writes with pwrite(2) and leaves everysec's
// fsync to a goroutine of its own.
//
// # Buffers
//
// Records go to chunks (aofbuf.go) that belong to the engine until
// AOFNextWrite hands them to the writer, whose (and the kernel's) they are
// until AOFWriteDone; meanwhile new records go to other chunks. A short or
// failed write keeps the rest in aof.writing, which the next AOFNextWrite
// hands out again at the right offset. On the ring, a stream of writes
// goes through the stage instead (aofdirect.go): records are appended to
// an aligned buffer in place and its whole blocks written with O_DIRECT;
// what the stage holds unwritten is likewise handed out again.
//
// # Durability
//
// taken, written and synced count bytes over the life of the shard (they do
// not restart with a new incr file). With appendfsync always the loop
// holds every reply produced while data is not synced until synced passes the
// point where it was produced (AOFHoldUntil, AOFSynced): one write and one
// fdatasync acknowledge every write of a turn, group commit. With everysec
// a fdatasync runs once a second when something was written; with no, the
// kernel decides.
//
// A failed write (disk full, I/O error) sets aof_last_write_status:err:
// from then on write commands and PING get -MISCONF (Exec) while reads go
// on; the writer retries once a second and writing resumes by itself when
// the disk takes the data. Nothing is dropped from the buffer meanwhile.

// Fsync policies.
const (
	fsyncNo = iota
	fsyncEverysec
	fsyncAlways
)

type aofState struct {
	aofBuf            // records not yet written (aofbuf.go)
	st       aofStage // large writes go direct through the stage (aofdirect.go)
	selected bool     // SELECT 0 written since the current incr file began

	dir   string // absolute path of appenddirname
	names aofNames
	man   *aofManifest
	fd    int   // the current incr file, -1 when none is open
	off   int64 // offset in fd where what is fed and not yet taken will go
	// fdStart is taken minus off: the byte count (taken, written,
	// synced) at which fd's offset 0 lies.
	fdStart int64

	writeFD  int   // where the writer writes writing
	writeOff int64 // ...
	inflight bool

	taken, written, synced uint64
	syncInflight           bool
	syncTarget             uint64
	syncStart              int64 // ms
	lastSync               int64 // ms
	bgSyncing              atomic.Bool
	bgSyncErr              atomic.Int32 // errno of the last background fsync, 0 if fine
	bgSyncTarget           uint64

	drop aofDrop // the durable part of the incr file leaves the page cache

	baseBufs baseBufs // a rewrite's direct buffers, kept between rewrites (aofbase.go)

	writeErr   syscall.Errno // 0 when the last write succeeded
	failedNow  bool          // writing failed in this AOFFlushSync (and was fine before)
	retryAt    int64         // ms: when a failed write is tried again
	lastErrLog int64
	delayed    int64 // aof_delayed_fsync

	baseSize  int64 // size of the base file
	incrPrior int64 // bytes in the incr files before the current one
	rwBase    int64 // aof_base_size: size of the AOF after the last rewrite

	loader *aofLoader
	rw     *aofRewrite // nil unless a rewrite runs
	rwAsk  bool        // a rewrite is scheduled
	// presynced: the scheduled cut's backlog was fsynced (aofPresync)
	presynced bool
	// removing is closed when the old files a rewrite replaced are
	// deleted (aofRemoveOld); nil when no removal runs.
	removing chan struct{}
	// retired are incr files closed by a rewrite, kept open until no
	// operation of the writer still names them.
	retired []int
}

// AOFOn reports whether the shard writes an AOF (appendonly yes and
// loaded).
func (s *Shard) AOFOn() bool { return s.aof.fd >= 0 && s.prop.on }

func (s *Shard) fsyncPolicy() int {
	switch s.Config.AppendFsync {
	case "always":
		return fsyncAlways
	case "no":
		return fsyncNo
	}
	return fsyncEverysec
}

// AOFAlways reports whether replies must wait for fsync (appendfsync
// always with the AOF healthy). While writes fail the loop sends replies
// to reads at once: writes are refused meanwhile.
func (s *Shard) AOFAlways() bool {
	return s.AOFOn() && s.fsyncPolicy() == fsyncAlways && s.aof.writeErr == 0
}

// AOFFailedNow reports whether the last AOFFlushSync met a new write
// error: with appendfsync always, the replies of that turn must then wait
// (epoll's writer), as they were not made durable.
func (s *Shard) AOFFailedNow() bool {
	return s.aof.failedNow && s.aof.fd >= 0 && s.fsyncPolicy() == fsyncAlways
}

// AOFHoldUntil is the byte count that must be synced before a reply
// produced now may be sent: everything fed so far.
func (s *Shard) AOFHoldUntil() uint64 { return s.aof.taken + uint64(s.aof.fed()) }

// AOFSynced is how many bytes are known durable.
func (s *Shard) AOFSynced() uint64 { return s.aof.synced }

// StartPersistence prepares the AOF before the loop serves: with
// appendonly yes it reads the manifest (upgrading a single-file AOF or
// creating a new one as Redis does) and begins loading; the loop then
// calls LoadStep until it is done. It fails when the AOF directory cannot
// be read or is not valid; nothing on disk is changed then.
func (s *Shard) StartPersistence() error {
	s.aof.fd, s.aof.st.dfd = -1, -1
	if !s.Config.AppendOnly {
		return nil
	}
	if fresh, err := s.aofOpenOrCreate(); fresh || err != nil {
		return err
	}
	s.aof.loader = s.newAOFLoader(s.aof.dir, s.aof.man)
	s.loading = true
	return nil
}

// aofOpenOrCreate reads the AOF directory's manifest into s.aof.man; when
// it names no file (a new directory), it creates a new AOF there and
// reports fresh.
func (s *Shard) aofOpenOrCreate() (fresh bool, err error) {
	m, err := s.aofOpenDir()
	if err != nil {
		return false, err
	}
	s.aof.man = m
	if m.base == nil && len(m.incrs) == 0 {
		return true, s.aofCreate()
	}
	return false, nil
}

// aofOpenDir finds the AOF directory and reads its manifest, creating the
// directory when missing.
func (s *Shard) aofOpenDir() (*aofManifest, error) {
	dir := s.Config.AppendDirname
	if !filepath.IsAbs(dir) {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(wd, dir)
	}
	s.aof.dir = dir
	s.aof.names = aofNames{prefix: s.Config.AppendFilename}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("Can't open or create append-only dir %s: %w", dir, err)
	}
	// A rewrite or manifest update cut short by a crash leaves its
	// temporary file, which nothing names: remove it.
	for _, pat := range []string{"temp-rewriteaof-*.aof", "temp-" + s.aof.names.manifest()} {
		stale, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, f := range stale {
			os.Remove(f)
		}
	}
	text, err := os.ReadFile(filepath.Join(dir, s.aof.names.manifest()))
	if os.IsNotExist(err) {
		// An AOF of Redis before 7 (one file beside the directory) becomes
		// the base of a new manifest, as Redis upgrades it.
		old := filepath.Join(filepath.Dir(dir), s.Config.AppendFilename)
		if st, err := os.Stat(old); err == nil && st.Mode().IsRegular() {
			logf("notice", "Upgrading the AOF %s to the multi-part format in %s", old, dir)
			if err := os.Rename(old, filepath.Join(dir, s.Config.AppendFilename)); err != nil {
				return nil, err
			}
			m := &aofManifest{base: &aofFileInfo{name: s.Config.AppendFilename, seq: 1, typ: aofBase}}
			if err := writeFileAtomic(dir, s.aof.names.manifest(), []byte(m.format())); err != nil {
				return nil, err
			}
			return m, nil
		}
		return &aofManifest{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("Can't read the AOF manifest %s: %w", s.aof.names.manifest(), err)
	}
	m, err := parseManifest(string(text))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.aof.names.manifest(), err)
	}
	return m, nil
}

// LoadStep loads part of the AOF; done reports that the data set is
// complete and the shard writes its AOF from now on. An error is fatal to
// the shard: the file is not valid.
func (s *Shard) LoadStep() (done bool, err error) {
	l := s.aof.loader
	if l == nil {
		return true, nil
	}
	s.Tick()
	done, err = l.step(20 * time.Millisecond)
	if err != nil || !done {
		return false, err
	}
	s.aof.loader = nil
	s.loading = false
	s.Tick()
	return true, s.aofOpenForWriting()
}

// aofCreate starts a new AOF for a shard that has none: an empty base, a
// first incr file and the manifest naming them.
func (s *Shard) aofCreate() error {
	s.aof.waitRemoved() // the old files' names come back with seq 1
	m := &aofManifest{}
	s.aof.man = m
	rw := s.newRewrite(1)
	for !rw.stepBase(1 << 30) {
	}
	if err := rw.finishBase(); err != nil {
		return err
	}
	inc := aofFileInfo{name: s.aof.names.incr(1), seq: 1, typ: aofIncr}
	m.base = &aofFileInfo{name: rw.baseName, seq: 1, typ: aofBase}
	m.incrs = []aofFileInfo{inc}
	if err := s.aofOpenIncr(inc.name); err != nil {
		return err
	}
	if err := writeFileAtomic(s.aof.dir, s.aof.names.manifest(), []byte(m.format())); err != nil {
		return err
	}
	s.aof.baseSize = rw.size
	s.aof.rwBase = rw.size
	s.prop.on = true
	return nil
}

// aofOpenForWriting opens the last incr file of the loaded AOF for
// appending (creating it when the manifest has none).
func (s *Shard) aofOpenForWriting() error {
	m := s.aof.man
	if len(m.incrs) == 0 {
		inc := aofFileInfo{name: s.aof.names.incr(1), seq: 1, typ: aofIncr}
		m.incrs = append(m.incrs, inc)
		if err := writeFileAtomic(s.aof.dir, s.aof.names.manifest(), []byte(m.format())); err != nil {
			return err
		}
	}
	if m.base != nil {
		if st, err := os.Stat(filepath.Join(s.aof.dir, m.base.name)); err == nil {
			s.aof.baseSize = st.Size()
		}
	}
	for _, f := range m.incrs[:len(m.incrs)-1] {
		if st, err := os.Stat(filepath.Join(s.aof.dir, f.name)); err == nil {
			s.aof.incrPrior += st.Size()
		}
	}
	if err := s.aofOpenIncr(m.incrs[len(m.incrs)-1].name); err != nil {
		return err
	}
	s.aof.rwBase = s.aofSize()
	s.prop.on = true
	return nil
}

// aofOpenIncr makes name the current incr file, positioned at its end.
func (s *Shard) aofOpenIncr(name string) error {
	path := filepath.Join(s.aof.dir, name)
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("Can't open the append-only file %s: %w", name, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return err
	}
	s.aof.retireFiles()
	s.aof.fd, s.aof.off = fd, st.Size
	s.aof.st.path, s.aof.st.tried = path, false
	s.aof.stageReset()
	s.aof.fdStart = int64(s.aof.taken) - st.Size
	s.aof.drop.done = 0
	s.aof.selected = false
	return syncDir(s.aof.dir)
}

// retireFiles puts the current incr file's descriptors on the retired
// list (closed once no operation names them). The stage must hold nothing
// unwritten.
func (a *aofState) retireFiles() {
	if a.fd >= 0 {
		a.retired = append(a.retired, a.fd)
	}
	if a.st.dfd >= 0 {
		a.retired = append(a.retired, a.st.dfd)
	}
	a.fd, a.st.dfd = -1, -1
	a.stageReset()
}

// pendingWrite says whether a write handed out is still to be completed
// (in flight, or failed and to be tried again).
func (a *aofState) pendingWrite() bool { return len(a.writing) > 0 || a.st.unwritten() > 0 }

// inflightLen is what the write in flight adds to the file when whole.
func (a *aofState) inflightLen() int { return a.writingLen() + a.st.writingLen() }

// aofSize is aof_current_size: base plus every incr file, written or not.
func (s *Shard) aofSize() int64 {
	return s.aof.baseSize + s.aof.incrPrior + s.aof.off + int64(s.aof.fed())
}

// AOFNextWrite hands the writer what it should write next: fd, the file
// offset and the iovecs of the bytes, which belong to the writer until
// AOFWriteDone. ok is false when nothing is to be written now (nothing
// fed, a write in flight, or a failed write waiting for its retry time).
func (s *Shard) AOFNextWrite() (fd int, off int64, iov []unix.Iovec, ok bool) {
	a := &s.aof
	if a.inflight || a.fd < 0 {
		return 0, 0, nil, false
	}
	if a.writeErr != 0 && s.nowMs < a.retryAt {
		return 0, 0, nil, false
	}
	if len(a.writing) == 0 {
		if fd, off, p, ok := s.stageNext(); ok {
			a.inflight = true
			a.writeFD = a.fd
			a.iov = append(a.iov[:0], unix.Iovec{Base: unsafe.SliceData(p)})
			a.iov[0].SetLen(len(p))
			return fd, off, a.iov, true
		}
		if a.fed() == 0 {
			return 0, 0, nil, false
		}
		if s.prop.depth > 0 {
			// Inside a unit (BGREWRITEAOF or CONFIG SET appendonly
			// flushing what is buffered): records of the unit taken
			// now leave unwrapped.
			s.prop.start = 0
		}
		n := a.take()
		a.writeFD, a.writeOff = a.fd, a.off
		a.off += int64(n)
		a.taken += uint64(n)
	}
	a.inflight = true
	return a.writeFD, a.writeOff, a.vec(), true
}

// AOFWriteDone reports the result of the write AOFNextWrite handed out:
// n bytes written, or err.
func (s *Shard) AOFWriteDone(n int, err syscall.Errno) {
	a := &s.aof
	a.inflight = false
	defer a.closeRetired()
	if err == 0 && n == 0 {
		err = unix.ENOSPC // a regular file that takes nothing is full
	}
	if err != 0 {
		if err == unix.EINTR || err == unix.EAGAIN {
			return
		}
		s.aofWriteFailed(err)
		return
	}
	if a.st.wend > 0 {
		added, whole := a.st.stageDone(n)
		a.written += uint64(added)
		if !whole {
			return // a short write: the rest goes next
		}
	} else {
		a.written += uint64(n)
		a.writeOff += int64(n)
		a.advance(n)
		if len(a.writing) > 0 {
			return // a short write: the rest goes next
		}
	}
	if a.writeErr != 0 {
		logf("warning", "AOF write error looks solved, Redis can write again.")
		a.writeErr = 0
	}
}

func (s *Shard) aofWriteFailed(err syscall.Errno) {
	a := &s.aof
	if a.writeErr == 0 {
		a.failedNow = true
	}
	if a.writeErr == 0 || s.nowMs-a.lastErrLog >= 30_000 {
		logf("warning", "Error writing to the AOF file: %s", errnoString(err))
		a.lastErrLog = s.nowMs
	}
	a.writeErr = err
	a.retryAt = s.nowMs + 1000
}

// AOFSyncDue says whether an fdatasync of fd should start now: with
// everysec, once a second when data was written since the last one.
// With always the writer links one to every write (AOFSyncNow).
func (s *Shard) AOFSyncDue() (fd int, ok bool) {
	a := &s.aof
	if a.fd < 0 || a.syncInflight || a.written == a.synced || a.inflight || a.bgSyncing.Load() {
		return 0, false
	}
	if a.writeErr != 0 && s.nowMs < a.retryAt {
		return 0, false
	}
	switch s.fsyncPolicy() {
	case fsyncAlways:
	case fsyncEverysec:
		if s.nowMs-a.lastSync < 1000 {
			return 0, false
		}
	default:
		return 0, false
	}
	return s.AOFSyncNow(a.writeFD), true
}

// AOFSyncWithWrite says whether an fdatasync should be linked after the
// write AOFNextWrite just handed out: always with appendfsync always, and
// with everysec once a second, so that a steady stream of writes (a write
// in flight at every turn) does not keep the fsync from ever starting.
func (s *Shard) AOFSyncWithWrite() bool {
	a := &s.aof
	if a.syncInflight || a.bgSyncing.Load() {
		return false
	}
	switch s.fsyncPolicy() {
	case fsyncAlways:
		return a.writeErr == 0
	case fsyncEverysec:
		return s.nowMs-a.lastSync >= 1000
	}
	return false
}

// AOFSyncNow records that an fdatasync of fd starts, covering what is
// written (or, linked after a write in flight, what that write ends).
func (s *Shard) AOFSyncNow(fd int) int {
	a := &s.aof
	a.syncInflight = true
	a.syncTarget = a.written
	if a.inflight {
		a.syncTarget = a.written + uint64(a.inflightLen())
	}
	a.syncStart = s.nowMs
	return fd
}

// AOFSyncDone reports the end of an fdatasync: err 0 when it succeeded.
// A sync cancelled because the write it was linked to fell short is not
// an error: another follows.
func (s *Shard) AOFSyncDone(err syscall.Errno) {
	a := &s.aof
	a.syncInflight = false
	a.lastSync = s.nowMs
	switch err {
	case 0:
		a.synced = max(a.synced, min(a.syncTarget, a.written))
		if a.writeErr != 0 && !a.pendingWrite() {
			logf("warning", "AOF write error looks solved, Redis can write again.")
			a.writeErr = 0
		}
	case unix.ECANCELED:
	default:
		s.aofWriteFailed(err)
	}
	s.aof.closeRetired()
}

// The page cache: a shard never reads its incr file while it serves, so
// what is durable of it is dropped from the cache (fadvise DONTNEED), a
// few MiB at a time, whole pages only. The cache then recycles the same
// pages instead of growing by the AOF's size (evicting what other
// processes cached, and in a VM touching memory the host must back
// afresh: the writes' copies ran several times slower when it did). What
// is durable of fd ends at offset synced - fdStart: a new incr file begins
// only after everything before it was written and synced.
type aofDrop struct {
	done     int64 // pages of fd before this offset were dropped (or asked to be)
	inflight bool
}

// aofDropMin is the least the writer drops at once.
const aofDropMin = 8 << 20

// AOFDropDue says which range of which file the writer should drop from
// the page cache now (posix_fadvise DONTNEED), if any; AOFDropDone
// reports that it did.
func (s *Shard) AOFDropDue() (fd int, off, n int64, ok bool) {
	a := &s.aof
	d := &a.drop
	if d.inflight || a.fd < 0 {
		return 0, 0, 0, false
	}
	end := (int64(a.synced) - a.fdStart) &^ (4<<10 - 1)
	if end-d.done < aofDropMin {
		return 0, 0, 0, false
	}
	n = min(end-d.done, 1<<30)
	off = d.done
	d.done += n
	d.inflight = true
	return a.fd, off, n, true
}

// AOFDropDone reports the end of the drop AOFDropDue handed out.
func (s *Shard) AOFDropDone() {
	s.aof.drop.inflight = false
	s.aof.closeRetired()
}

// aofDropInline drops what is due in the loop (epoll's writer).
func (s *Shard) aofDropInline() {
	if fd, off, n, ok := s.AOFDropDue(); ok {
		unix.Fadvise(fd, off, n, unix.FADV_DONTNEED)
		s.AOFDropDone()
	}
}

// closeRetired closes the incr files a rewrite replaced once no write or
// sync names them.
func (a *aofState) closeRetired() {
	if a.inflight || a.syncInflight || a.bgSyncing.Load() || a.drop.inflight || len(a.retired) == 0 {
		return
	}
	for _, fd := range a.retired {
		unix.Close(fd)
	}
	a.retired = a.retired[:0]
}

// AOFFlushSync writes what is buffered with pwrite(2) and fsyncs as the
// policy asks (epoll's writer, and the last write at shutdown with
// final). everysec's fsync runs on a goroutine unless final.
func (s *Shard) AOFFlushSync(final bool) {
	a := &s.aof
	a.failedNow = false
	if a.fd < 0 {
		return
	}
	s.aofReapBgSync()
	s.aofWriteOut(final)
	defer s.aofDropInline()
	if a.written == a.synced {
		a.closeRetired()
		return
	}
	policy := s.fsyncPolicy()
	switch {
	case final || policy == fsyncAlways:
		if a.bgSyncing.Load() {
			for a.bgSyncing.Load() {
				time.Sleep(time.Millisecond)
			}
			s.aofReapBgSync()
		}
		s.AOFSyncNow(a.fd)
		start := int64(0)
		if policy == fsyncAlways {
			start = s.latencyStart()
		}
		err := unix.Fdatasync(a.fd)
		s.latencyEnd(eventAOFSyncAlways, start)
		var errno syscall.Errno
		if err != nil {
			errors.As(err, &errno)
		}
		s.AOFSyncDone(errno)
	case policy == fsyncEverysec && !a.bgSyncing.Load() && s.nowMs-a.lastSync >= 1000:
		s.aofSyncBackground()
	}
}

// aofWriteOut writes with pwrite(2) what is buffered, until it is all
// written or a write fails (tried once more, at once, when final).
func (s *Shard) aofWriteOut(final bool) {
	a := &s.aof
	a.st.inline = true // a direct write would stall the loop until the device is done
	defer func() { a.st.inline = false }()
	for {
		fd, off, p, ok := s.AOFNextWrite()
		if !ok {
			if final && a.writeErr != 0 && a.pendingWrite() {
				a.retryAt = 0 // one last try
				if fd, off, p, ok = s.AOFNextWrite(); !ok {
					return
				}
			} else {
				return
			}
		}
		if s.aofWriteNow(fd, off, p) != 0 {
			return
		}
	}
}

// aofWriteNow makes the write AOFNextWrite handed out with pwritev(2) in
// the loop and reports it (AOFWriteDone); it returns the error, 0 if none.
// The latency monitor times it as Redis times its AOF writes.
func (s *Shard) aofWriteNow(fd int, off int64, iov []unix.Iovec) syscall.Errno {
	start := s.latencyStart()
	n, err := pwritev(fd, iov, off)
	if start != 0 {
		s.aofWriteLatency(start)
	}
	var errno syscall.Errno
	if err != nil {
		if !errors.As(err, &errno) || errno == 0 {
			errno = unix.EIO
		}
		n = 0
	}
	s.AOFWriteDone(n, errno)
	return errno
}

// aofWriteLatency records a write of the loop that began at start (the
// monitor's clock) as "aof-write" and, as Redis tells them apart, as a
// write while an fsync of the AOF runs, while a rewrite runs (Redis's
// rewriting child), or alone.
func (s *Shard) aofWriteLatency(start int64) {
	ms := (nanotime() - start) / 1e6
	a := &s.aof
	switch {
	case a.syncInflight || a.bgSyncing.Load():
		s.latencyIfNeeded(eventAOFPendingSync, ms)
	case a.rw != nil:
		s.latencyIfNeeded(eventAOFActiveChild, ms)
	default:
		s.latencyIfNeeded(eventAOFAlone, ms)
	}
	s.latencyIfNeeded(eventAOFWrite, ms)
}

// aofSyncBackground starts a fdatasync of the current incr file, covering
// what is written, on a goroutine of its own (epoll's everysec, and the
// backlog before a cut: aofPresync). aofReapBgSync takes its result.
func (s *Shard) aofSyncBackground() {
	a := &s.aof
	a.bgSyncing.Store(true)
	a.bgSyncTarget = a.written
	a.lastSync = s.nowMs
	a.syncStart = s.nowMs
	fd := a.fd
	go func() {
		if err := bgFdatasync(fd); err != nil {
			var errno syscall.Errno
			errors.As(err, &errno)
			a.bgSyncErr.Store(int32(errno))
		}
		a.bgSyncing.Store(false)
	}()
}

// bgFdatasync is the background fsync's call (a test holds it to stand
// for a slow disk).
var bgFdatasync = unix.Fdatasync

// aofReapBgSync takes the result of a background fdatasync that ended.
func (s *Shard) aofReapBgSync() {
	a := &s.aof
	if err := a.bgSyncErr.Swap(0); err != 0 {
		s.aofWriteFailed(syscall.Errno(err))
	}
	if !a.bgSyncing.Load() && a.bgSyncTarget > a.synced && a.bgSyncErr.Load() == 0 {
		a.synced = a.bgSyncTarget
		a.closeRetired()
	}
}

// aofCron is the AOF's share of the shard's cron: a stalled fsync is
// reported, a scheduled or automatic rewrite starts.
func (s *Shard) aofCron() {
	a := &s.aof
	a.baseBufs.idle(s.nowMs, a.fd >= 0)
	if a.fd < 0 {
		return
	}
	if (a.syncInflight || a.bgSyncing.Load()) && s.nowMs-a.syncStart >= 2000 {
		s.aofDelayed() // the ring's fsync or one on a goroutine (epoll's, a cut's presync)
	}
	if a.rw == nil && !a.rwAsk && s.Config.AutoAOFRewritePercentage > 0 {
		size := s.aofSize()
		base := max(a.rwBase, 1)
		if size > s.Config.AutoAOFRewriteMinSize && (size-base)*100/base >= int64(s.Config.AutoAOFRewritePercentage) {
			logf("notice", "Starting automatic rewriting of AOF on %d%% growth", (size-base)*100/base)
			a.rwAsk, a.presynced = true, false
		}
	}
}

// aofDelayed reports an fsync that has taken more than two seconds, as
// Redis does for a busy disk.
func (s *Shard) aofDelayed() {
	a := &s.aof
	a.delayed++
	if s.nowMs-a.lastErrLog >= 30_000 {
		a.lastErrLog = s.nowMs
		logf("warning", "Asynchronous AOF fsync is taking too long (disk is busy?). "+
			"Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.")
	}
}

// StopPersistence writes and fsyncs what is buffered and closes the AOF,
// at shutdown. The loop has no write or sync in flight any more.
func (s *Shard) StopPersistence() {
	a := &s.aof
	if a.fd < 0 {
		return
	}
	a.inflight, a.syncInflight, a.drop.inflight = false, false, false
	if a.rw != nil {
		s.abortRewrite("the shard is shutting down")
	}
	s.AOFFlushSync(true)
	for a.bgSyncing.Load() {
		time.Sleep(time.Millisecond)
	}
	a.waitRemoved()
	a.retireFiles()
	a.closeRetired()
	s.prop.on = false
}

// aofMisconf is the error for writes while the AOF cannot be written.
func (s *Shard) aofMisconf() string {
	return "MISCONF Errors writing to the AOF file: " + errnoString(s.aof.writeErr)
}

// errnoString is strerror's text, as Redis prints it.
func errnoString(e syscall.Errno) string {
	msg := e.Error()
	if msg != "" {
		return string(msg[0]-'a'+'A') + msg[1:]
	}
	return msg
}

// setAppendonly turns the AOF on or off at run time (CONFIG SET
// appendonly): on, Redis starts a rewrite that writes the data set as the
// base of a new AOF.
func (s *Shard) setAppendonly(on bool) error {
	a := &s.aof
	if on == (a.fd >= 0) {
		return nil
	}
	if !on {
		if a.rw != nil {
			s.abortRewrite("appendonly was turned off")
		}
		s.AOFFlushSync(true)
		a.retireFiles()
		a.closeRetired()
		s.prop.on = false
		a.discard()
		return nil
	}
	if fresh, err := s.aofOpenOrCreate(); fresh || err != nil {
		return err
	}
	// An AOF left from before: the rewrite that starts now replaces it.
	if err := s.aofOpenForWriting(); err != nil {
		return err
	}
	s.prop.on = true
	return s.startRewrite()
}

// infoAOF writes INFO persistence's AOF fields, Redis 7.0's names.
func (s *Shard) infoAOF(w *infoWriter) {
	a := &s.aof
	st := &s.rwStat
	w.kv("aof_enabled", boolInt(a.fd >= 0 || a.loader != nil))
	w.kv("aof_rewrite_in_progress", boolInt(a.rw != nil))
	w.kv("aof_rewrite_scheduled", boolInt(a.rwAsk))
	if st.rewrites > 0 {
		w.kv("aof_last_rewrite_time_sec", st.lastSecs)
	} else {
		w.kv("aof_last_rewrite_time_sec", -1)
	}
	if a.rw != nil {
		w.kv("aof_current_rewrite_time_sec", int64(time.Since(a.rw.start).Seconds()))
	} else {
		w.kv("aof_current_rewrite_time_sec", -1)
	}
	w.kv("aof_last_bgrewrite_status", okErr(st.lastOK || !st.everFailed))
	w.kv("aof_rewrites", st.rewrites)
	w.kv("aof_rewrites_consecutive_failures", boolInt(!st.lastOK && st.everFailed))
	w.kv("aof_last_write_status", okErr(a.writeErr == 0))
	w.kv("aof_last_cow_size", 0)
	w.kv("module_fork_in_progress", 0)
	w.kv("module_fork_last_cow_size", 0)
	if a.fd >= 0 {
		w.kv("aof_current_size", s.aofSize())
		w.kv("aof_base_size", a.rwBase)
		w.kv("aof_pending_rewrite", boolInt(a.rwAsk))
		w.kv("aof_buffer_length", a.unwritten()+a.st.unwritten())
		w.kv("aof_pending_bio_fsync", boolInt(a.syncInflight || a.bgSyncing.Load()))
		w.kv("aof_delayed_fsync", a.delayed)
		rwMem := 0
		if a.rw != nil {
			rwMem = s.db.MarkBytes() + a.rw.memBytes()
		}
		w.kv("aof_rewrite_buffer_length", rwMem)
	}
	if l := a.loader; l != nil {
		w.kv("loading_start_time", l.start.Unix())
		w.kv("loading_total_bytes", l.total)
		w.kv("loading_rdb_used_mem", 0)
		w.kv("loading_loaded_bytes", l.bytes)
		perc := 0.0
		if l.total > 0 {
			perc = 100 * float64(l.bytes) / float64(l.total)
		}
		w.kv("loading_loaded_perc", fmt.Sprintf("%.2f", perc))
		eta := 1
		if el := time.Since(l.start).Seconds(); l.bytes > 0 && el > 0 {
			eta = int(float64(l.total-l.bytes) / (float64(l.bytes) / el))
		}
		w.kv("loading_eta_seconds", eta)
	}
}

func okErr(ok bool) string {
	if ok {
		return "ok"
	}
	return "err"
}

// BGREWRITEAOF: start a rewrite (or schedule one behind the running one's
// end, as Redis does while another is in progress).
func bgrewriteaofCmd(s *Shard, c *Client, argv [][]byte) {
	a := &s.aof
	switch {
	case a.rw != nil:
		c.Error("ERR Background append only file rewriting already in progress")
	case a.fd < 0 && !s.Config.AppendOnly:
		// Redis writes an AOF from the data set even with appendonly no;
		// a shard writes its AOF only while appendonly is on.
		c.Error("ERR Background append only file rewriting needs appendonly yes on this server")
	default:
		if err := s.startRewrite(); err != nil {
			c.Error("ERR Background append only file rewriting failed: " + err.Error())
			return
		}
		if a.rw == nil {
			c.Simple("Background append only file rewriting scheduled")
			return
		}
		c.Simple("Background append only file rewriting started")
	}
}

func init() {
	register(&Command{Name: "bgrewriteaof", Arity: 1,
		Flags: FlagAdmin | FlagNoScript,
		ACL:   "@admin @slow @dangerous",
		Group: "server", Since: "1.0.0",
		Summary:    "Asynchronously rewrite the append-only file to disk",
		Complexity: "O(1)",
		Proc:       bgrewriteaofCmd,
	})
}

// Loading reports whether the AOF is still loading.
func (s *Shard) Loading() bool { return s.loading }

// aofReload empties the key space and loads the AOF again, synchronously
// (DEBUG LOADAOF). What is buffered is written and fsynced first with
// pwrite; a write of the ring still in flight is written again at its
// offset (the same bytes, so the ring's own write and the writer's later
// writes of the same bytes change nothing). An error means the AOF on disk
// is not valid.
func (s *Shard) aofReload() error {
	a := &s.aof
	if a.man == nil { // appendonly was never on: whatever the directory holds
		m, err := s.aofOpenDir()
		if err != nil {
			return err
		}
		a.man = m
	}
	if a.fd >= 0 {
		if st := &a.st; st.unwritten() > 0 {
			if st.dend > 0 {
				if err := pwriteAll(a.fd, st.buf[st.dstart:st.dend], st.doff); err != nil {
					return err
				}
			}
			if err := pwriteAll(a.fd, st.buf[st.in:st.n], st.base+int64(st.in)); err != nil {
				return err
			}
		}
		off := a.writeOff
		for _, p := range a.writing {
			if err := pwriteAll(a.writeFD, p, off); err != nil {
				return err
			}
			off += int64(len(p))
		}
		off = a.off
		for _, p := range append(a.sealed[:len(a.sealed):len(a.sealed)], a.buf) {
			if err := pwriteAll(a.fd, p, off); err != nil {
				return err
			}
			off += int64(len(p))
		}
		if err := unix.Fdatasync(a.fd); err != nil {
			return err
		}
	}
	on := s.prop.on
	s.prop.on = false
	defer func() { s.prop.on = on }()
	s.touchFlushed()
	s.db.Clear()
	s.funcs.clear() // the AOF loads them again, as Redis's emptyData
	s.expire.cursor, s.expire.avgTTL = 0, 0
	l := s.newAOFLoader(a.dir, a.man)
	s.loading = true
	defer func() { s.loading = false }()
	for {
		done, err := l.step(time.Hour)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}
