package engine

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Loading the AOF at start. The loop calls LoadStep until it reports the
// load done; between steps it serves clients, who get -LOADING for what
// needs the data (Redis's processEventsWhileBlocked). Each step runs
// commands for a bounded time. Commands are run as Redis's AOF loader runs
// them: by a client of the shard's own, replies dropped, nothing recorded,
// no key expiring while the data set is incomplete. MULTI ... EXEC in the
// file is run at its EXEC, so a file cut inside one loses all of it.
//
// The base may be an RDB file (".base.rdb", or an AOF starting with an RDB
// preamble "REDIS"); the rest is RESP arrays of bulk strings. A command cut
// short at the end of the last file (a crash mid-write) is cut off with a
// warning when aof-load-truncated is yes, as in Redis; anything else
// malformed stops the load with an error naming the file and offset, and
// nothing is changed on disk.

// aofRDBPart is the RDB reader the loader uses for a base in RDB form.
type aofRDBPart interface {
	Step(maxKeys int) (done bool, err error)
	Offset() int64
	Keys() int64
}

type aofLoadFile struct {
	name string
	last bool // the last file: a truncated tail may be cut off
}

type aofLoader struct {
	s     *Shard
	dir   string
	files []aofLoadFile
	i     int

	f    *os.File
	r    *bufio.Reader
	name string
	off  int64 // offset of the next unread byte of the current file
	good int64 // offset after the last complete command outside MULTI
	rdb  aofRDBPart
	// rdbBase is the offset at which the current RDB part began.
	rdbBase int64

	cli     *Client
	argv    [][]byte
	arena   []byte // the arguments of the command just read
	inMulti bool
	queued  [][][]byte

	cmds    int64
	bytes   int64
	total   int64 // bytes of all files
	start   time.Time
	lastLog time.Time
}

// errAOFTruncated marks a command cut short by the end of a file.
var errAOFTruncated = errors.New("unexpected end of file")

func (s *Shard) newAOFLoader(dir string, m *aofManifest) *aofLoader {
	l := &aofLoader{s: s, dir: dir, start: time.Now()}
	if m.base != nil {
		l.files = append(l.files, aofLoadFile{name: m.base.name})
	}
	for _, f := range m.incrs {
		l.files = append(l.files, aofLoadFile{name: f.name})
	}
	if n := len(l.files); n > 0 {
		l.files[n-1].last = true
	}
	for _, f := range l.files {
		if st, err := os.Stat(filepath.Join(dir, f.name)); err == nil {
			l.total += st.Size()
		}
	}
	l.lastLog = l.start
	l.cli = &Client{ID: ^uint64(0), shard: s}
	return l
}

// step loads for about budget; done is true when every file is loaded.
func (l *aofLoader) step(budget time.Duration) (done bool, err error) {
	deadline := time.Now().Add(budget)
	for n := 0; ; n++ {
		if n&63 == 0 && n > 0 && time.Now().After(deadline) {
			l.progress()
			return false, nil
		}
		if l.f == nil {
			if l.i == len(l.files) {
				l.finish()
				return true, nil
			}
			if err := l.open(); err != nil {
				return false, err
			}
		}
		if l.rdb != nil {
			fin, err := l.rdb.Step(256)
			if err != nil {
				return false, fmt.Errorf("Bad file format reading the append only file %s: %w", l.name, err)
			}
			if fin {
				l.off = l.rdbBase + l.rdb.Offset()
				l.good = l.off
				l.rdb = nil
			}
			continue
		}
		more, err := l.command()
		if err != nil {
			return false, err
		}
		if !more {
			if err := l.closeFile(); err != nil {
				return false, err
			}
		}
	}
}

func (l *aofLoader) open() error {
	lf := l.files[l.i]
	l.name = lf.name
	f, err := os.Open(filepath.Join(l.dir, lf.name))
	if err != nil {
		if os.IsNotExist(err) && lf.last && l.i > 0 {
			// Redis creates the last incr file lazily; a missing one is
			// empty.
			l.i++
			return nil
		}
		return fmt.Errorf("Can't open the append-only file %s: %w", lf.name, err)
	}
	l.f, l.r, l.off, l.good = f, bufio.NewReaderSize(f, 1<<20), 0, 0
	if head, err := l.r.Peek(5); err == nil && string(head) == "REDIS" {
		part, err := l.s.aofRDBPart(l.r, lf.name)
		if err != nil {
			return err
		}
		l.rdb, l.rdbBase = part, 0
	}
	return nil
}

// closeFile ends the current file: a MULTI left open or a command cut
// short is a truncated file.
func (l *aofLoader) closeFile() error {
	lf := l.files[l.i]
	if l.inMulti {
		l.inMulti = false
		l.queued = l.queued[:0]
		if err := l.truncatedTail(lf); err != nil {
			return err
		}
	}
	l.f.Close()
	l.f, l.r = nil, nil
	l.i++
	return nil
}

// truncatedTail handles a file whose last command is incomplete: allowed
// in the last file with aof-load-truncated yes, where the file is cut to
// its last complete command; an error anywhere else.
func (l *aofLoader) truncatedTail(lf aofLoadFile) error {
	if !lf.last || !l.s.Config.AOFLoadTruncated {
		return fmt.Errorf("Unexpected end of file reading the append only file %s at offset %d: "+
			"make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>", lf.name, l.good)
	}
	logf("warning", "!!! Warning: short read while loading the AOF file %s!!!", lf.name)
	logf("warning", "!!! Truncating the AOF %s at offset %d !!!", lf.name, l.good)
	if err := os.Truncate(filepath.Join(l.dir, lf.name), l.good); err != nil {
		return fmt.Errorf("Error truncating the AOF file %s: %w", lf.name, err)
	}
	logf("warning", "AOF %s loaded anyway because aof-load-truncated is enabled", lf.name)
	return nil
}

// command reads and runs one command; more is false at the end of the
// file (after a truncated tail was dealt with).
func (l *aofLoader) command() (more bool, err error) {
	argv, err := l.read()
	if err == io.EOF {
		return false, nil
	}
	if err == errAOFTruncated {
		if l.inMulti {
			return false, nil // closeFile deals with it
		}
		return false, l.truncatedTail(l.files[l.i])
	}
	if err != nil {
		return false, fmt.Errorf("Bad file format reading the append only file %s at offset %d: %v: "+
			"make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>", l.name, l.good, err)
	}
	l.cmds++
	switch {
	case eqFold(argv[0], "multi") && len(argv) == 1:
		l.inMulti = true
		l.queued = l.queued[:0]
		return true, nil
	case eqFold(argv[0], "exec") && len(argv) == 1:
		if !l.inMulti {
			return false, fmt.Errorf("Bad file format reading the append only file %s at offset %d: EXEC without MULTI", l.name, l.good)
		}
		l.inMulti = false
		for _, q := range l.queued {
			if err := l.run(q); err != nil {
				return false, err
			}
		}
		l.queued = l.queued[:0]
		l.good = l.off
		return true, nil
	case l.inMulti:
		q := make([][]byte, len(argv))
		for i, a := range argv {
			q[i] = append([]byte(nil), a...)
		}
		l.queued = append(l.queued, q)
		return true, nil
	}
	if err := l.run(argv); err != nil {
		return false, err
	}
	l.good = l.off
	return true, nil
}

// run executes one command of the file.
func (l *aofLoader) run(argv [][]byte) error {
	s := l.s
	cmd := s.cmds.lookup(argv)
	if cmd == nil || cmd.Proc == nil {
		return fmt.Errorf("Unknown command '%s' reading the append only file %s", truncate(cString(argv[0]), 128), l.name)
	}
	if !cmd.arityOK(len(argv)) {
		return fmt.Errorf("Bad file format reading the append only file %s at offset %d: wrong number of arguments for '%s'",
			l.name, l.good, cmd.FullName)
	}
	if eqFold(argv[0], "select") {
		return nil // a shard has one database
	}
	c := l.cli
	func() {
		defer func() {
			if r := recover(); r != nil {
				s.Stats.UnexpectedErrors++
				logf("warning", "command %s panicked while loading the AOF: %v", cmd.FullName, r)
			}
		}()
		cmd.Proc(s, c, argv)
	}()
	c.Out = c.Out[:0]
	if c.blk != nil { // a blocking command in the file does not wait
		s.forget(c)
	}
	return nil
}

// read reads one RESP array of bulk strings. The arguments alias a buffer
// reused by the next read.
func (l *aofLoader) read() ([][]byte, error) {
	line, err := l.line()
	if err != nil {
		if err == io.EOF && len(line) == 0 {
			return nil, io.EOF
		}
		return nil, errAOFTruncated
	}
	if len(line) < 2 || line[0] != '*' {
		return nil, errors.New("expected '*'")
	}
	n, perr := strconv.ParseInt(string(line[1:]), 10, 64)
	if perr != nil || n < 1 || n > 1<<20 {
		return nil, errors.New("invalid multibulk length")
	}
	l.argv = l.argv[:0]
	l.arena = l.arena[:0]
	for range n {
		line, err := l.line()
		if err != nil {
			return nil, errAOFTruncated
		}
		if len(line) < 2 || line[0] != '$' {
			return nil, errors.New("expected '$'")
		}
		size, perr := strconv.ParseInt(string(line[1:]), 10, 64)
		if perr != nil || size < 0 || size > 1<<36 {
			return nil, errors.New("invalid bulk length")
		}
		need := int(size + 2)
		at := len(l.arena)
		if cap(l.arena)-at < need {
			// Arguments read before keep the old array alive.
			l.arena, at = make([]byte, 0, max(2*cap(l.arena), need, 64<<10)), 0
		}
		l.arena = l.arena[:at+need]
		arg := l.arena[at : at+need : at+need]
		if _, err := io.ReadFull(l.r, arg); err != nil {
			return nil, errAOFTruncated
		}
		l.off += size + 2
		l.bytes += size + 2
		if arg[size] != '\r' || arg[size+1] != '\n' {
			return nil, errors.New("bulk string not followed by CRLF")
		}
		l.argv = append(l.argv, arg[:size])
	}
	return l.argv, nil
}

// line reads a line ending in CRLF and returns it without the CRLF.
func (l *aofLoader) line() ([]byte, error) {
	b, err := l.r.ReadSlice('\n')
	l.off += int64(len(b))
	l.bytes += int64(len(b))
	if err != nil {
		if err == bufio.ErrBufferFull {
			return nil, errors.New("line too long")
		}
		return b, err
	}
	if len(b) < 2 || b[len(b)-2] != '\r' {
		return nil, errors.New("line not ending in CRLF")
	}
	return b[:len(b)-2], nil
}

func (l *aofLoader) progress() {
	now := time.Now()
	if now.Sub(l.lastLog) < 2*time.Second {
		return
	}
	l.lastLog = now
	el := now.Sub(l.start).Seconds()
	logf("notice", "Loading the AOF: %d keys, %.1f%% of %d MB, %.1f MB/s",
		l.s.db.Len(), 100*float64(l.bytes)/float64(max(l.total, 1)), l.total>>20, float64(l.bytes)/1e6/max(el, 1e-9))
}

func (l *aofLoader) finish() {
	el := time.Since(l.start).Seconds()
	logf("notice", "DB loaded from append only file: %.3f seconds (%d keys, %d MB/s)",
		el, l.s.db.Len(), int64(float64(l.total)/1e6/max(el, 1e-3)))
}
