package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"shoal/engine/internal/dict"
	"shoal/engine/internal/intset"
	"shoal/engine/internal/kv"
	"shoal/engine/internal/listpack"
	"shoal/engine/internal/quicklist"
	"shoal/engine/internal/rdb"
	"shoal/engine/internal/zset"
)

// The engine's values in Redis's RDB format (engine/internal/rdb has the
// primitives): writing a key for the AOF's base file and DUMP, reading a
// value back for RESTORE and for loading a file.
//
// Values are written as Redis 7.0 writes them: strings (integer-encoded or
// LZF-compressed when that is shorter), lists as a quicklist of listpack
// nodes, sets as an intset or plain members, sorted sets and hashes as a
// listpack or plain members (binary double scores). The listpack and
// intset blobs are written as they are: they are Redis's bytes.
//
// Values are read in every form Redis 7.0 reads and in the forms older
// and newer Redis write for these types (ziplists, zipmaps, old quicklists,
// 7.2's listpack sets), then given the encoding Redis 7.0 would give them
// under this shard's limits (a listpack over hash-max-listpack-entries
// becomes a hashtable, and so on). Every blob is validated deeply before
// it is adopted, as Redis's sanitize-dump-payload yes does, and more:
// repeated hash fields and set or sorted set members, sorted set
// listpacks out of order or with scores that are not numbers, all
// refused. Nothing read here panics on bad input.
//
// All of it runs on the shard's loop.

// rdbCompress says whether strings are LZF-compressed when written, as
// Redis's rdbcompression (yes by default).
const rdbCompress = true

// errRDBEmpty is a value with no elements. A file may hold one (old Redis
// bugs wrote them): the loader skips it, as Redis does; RESTORE refuses it.
var errRDBEmpty = fmt.Errorf("%w: empty value", rdb.ErrCorrupt)

// ---- writing -----------------------------------------------------------

// rdbAppendKey appends the key at r as an RDB record: EXPIRETIME_MS and
// the time when the key has one, the value type, the key and the value,
// strings LZF-compressed (where that saves space) if compress.
// r must be a live key (expired or not: what is in the key space is
// written). O(size of the value), in one call; for a string, no
// allocation beyond dst's growth.
func (s *Shard) rdbAppendKey(dst []byte, r kv.Ref, compress bool) []byte {
	if at := s.db.Expire(r); at != kv.NoExpire {
		dst = rdb.AppendExpireMs(dst, at)
	}
	dst = append(dst, s.rdbType(r))
	dst = rdb.AppendString(dst, s.db.Key(r), compress)
	return s.rdbAppendValue(dst, r, compress)
}

// rdbDump appends the DUMP payload of the key at r: value type, value,
// RDB version and CRC64. O(size of the value).
func (s *Shard) rdbDump(dst []byte, r kv.Ref, compress bool) []byte {
	start := len(dst)
	dst = append(dst, s.rdbType(r))
	dst = s.rdbAppendValue(dst, r, compress)
	return rdb.AppendDumpFooter(dst, start)
}

// rdbType is the RDB value type the key at r is written with.
func (s *Shard) rdbType(r kv.Ref) byte {
	if !s.db.IsObject(r) {
		return rdb.TypeString
	}
	switch o := s.db.Obj(r).(type) {
	case *listObj:
		return rdb.TypeListQuicklist2
	case *setObj:
		if o.d == nil {
			return rdb.TypeSetIntset
		}
		return rdb.TypeSet
	case *zsetObj:
		if o.sk == nil {
			return rdb.TypeZsetListpack
		}
		return rdb.TypeZset2
	case *hashObj:
		if o.d == nil {
			return rdb.TypeHashListpack
		}
		return rdb.TypeHash
	}
	panic(fmt.Sprintf("engine: no RDB type for a value of type %T", s.db.Obj(r)))
}

// rdbAppendValue appends the value at r in the form rdbType names.
func (s *Shard) rdbAppendValue(dst []byte, r kv.Ref, compress bool) []byte {
	if !s.db.IsObject(r) {
		return rdb.AppendString(dst, s.db.Str(r), compress)
	}
	switch o := s.db.Obj(r).(type) {
	case *listObj:
		dst = rdb.AppendLen(dst, uint64(o.NodeCount()))
		for i := range o.NodeCount() {
			dst = rdb.AppendLen(dst, rdb.ContainerPacked)
			dst = rdb.AppendString(dst, o.Node(i).Bytes(), compress)
		}
	case *setObj:
		if o.d == nil {
			return rdb.AppendString(dst, o.ints.Bytes(), compress)
		}
		dst = rdb.AppendLen(dst, uint64(o.d.Len()))
		for m := range o.d.All() {
			dst = rdb.AppendString(dst, m, compress)
		}
	case *zsetObj:
		if o.sk == nil {
			return rdb.AppendString(dst, o.lp.Bytes(), compress)
		}
		// From the highest score down, as Redis writes them: loading
		// then inserts each member at the head.
		dst = rdb.AppendLen(dst, uint64(o.sk.Len()))
		it := o.sk.IterRank(0, true)
		for m, score, ok := it.Next(); ok; m, score, ok = it.Next() {
			dst = rdb.AppendString(dst, m, compress)
			dst = rdb.AppendBinaryDouble(dst, score)
		}
	case *hashObj:
		if o.d == nil {
			return rdb.AppendString(dst, o.lp.Bytes(), compress)
		}
		dst = rdb.AppendLen(dst, uint64(o.d.Len()))
		for f, v := range o.d.All() {
			dst = rdb.AppendString(dst, f, compress)
			dst = rdb.AppendString(dst, v, compress)
		}
	default:
		panic(fmt.Sprintf("engine: no RDB form for a value of type %T", o))
	}
	return dst
}

// ---- reading values ----------------------------------------------------

// rdbValue is a value read from RDB: a string (str, aliasing the reader
// until its next call) or an object, with its type and encoding.
type rdbValue struct {
	typ, enc uint8
	str      []byte
	obj      any
}

// rdbDecoder reads values for one shard's configuration, keeping its
// scratch buffers from value to value. A loader keeps one; RESTORE makes
// one per call.
type rdbDecoder struct {
	rd   *rdb.Reader
	cfg  *Config
	uniq rdb.Uniq
	buf  []byte // a field or member kept while the next string is read
}

// count reads an element count. A payload in memory must have at least a
// byte per element left, which stops a corrupt count before it costs
// anything.
func (d *rdbDecoder) count() (uint64, error) {
	n, err := d.rd.ReadLen()
	if err != nil {
		return 0, err
	}
	if left := d.rd.Buffered(); left >= 0 && n > uint64(left) {
		return 0, fmt.Errorf("%w: %d elements announced, %d bytes left", rdb.ErrCorrupt, n, left)
	}
	if n == 0 {
		return 0, errRDBEmpty
	}
	return n, nil
}

// sizeHint bounds the size a container is made for from a count read from
// the input: it grows past it as elements arrive.
func sizeHint(n uint64) int { return int(min(n, 1<<16)) }

// loadListpack validates a listpack blob (deeply) and returns a listpack
// of its own copy of it.
func loadListpack(b []byte) (listpack.Listpack, error) {
	lp, err := listpack.Load(bytes.Clone(b))
	if err != nil {
		return listpack.Listpack{}, fmt.Errorf("%w: %w", rdb.ErrCorrupt, err)
	}
	return lp, nil
}

// blob reads a string and returns a copy the caller may own.
func (d *rdbDecoder) blob() ([]byte, error) {
	b, err := d.rd.ReadString()
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b), nil
}

// readValue reads a value of RDB type t. O(size of the value).
func (d *rdbDecoder) readValue(t byte) (rdbValue, error) {
	switch t {
	case rdb.TypeString:
		b, err := d.rd.ReadString()
		if err != nil {
			return rdbValue{}, err
		}
		return rdbValue{typ: typeString, enc: stringEncoding(b), str: b}, nil
	case rdb.TypeList, rdb.TypeListZiplist, rdb.TypeListQuicklist, rdb.TypeListQuicklist2:
		return d.readList(t)
	case rdb.TypeSet, rdb.TypeSetIntset, rdb.TypeSetListpack:
		return d.readSet(t)
	case rdb.TypeZset, rdb.TypeZset2, rdb.TypeZsetZiplist, rdb.TypeZsetListpack:
		return d.readZset(t)
	case rdb.TypeHash, rdb.TypeHashZipmap, rdb.TypeHashZiplist, rdb.TypeHashListpack:
		return d.readHash(t)
	case rdb.TypeModulePreGA, rdb.TypeModule2:
		return rdbValue{}, fmt.Errorf("%w: module values", rdb.ErrUnsupported)
	case rdb.TypeStreamListpacks, rdb.TypeStreamListpacks2, rdb.TypeStreamListpacks3:
		return rdbValue{}, fmt.Errorf("%w: stream values", rdb.ErrUnsupported)
	case rdb.TypeHashMetadataPre, rdb.TypeHashListpackExPr, rdb.TypeHashMetadata, rdb.TypeHashListpackEx:
		return rdbValue{}, fmt.Errorf("%w: hashes with field expiration (Redis 7.4)", rdb.ErrUnsupported)
	}
	return rdbValue{}, fmt.Errorf("%w: unknown value type %d", rdb.ErrCorrupt, t)
}

func (d *rdbDecoder) readList(t byte) (rdbValue, error) {
	l := &listObj{Quicklist: *quicklist.New(d.cfg.ListMaxListpackSize)}
	l.SetCompressDepth(d.cfg.ListCompressDepth)
	if t == rdb.TypeListZiplist {
		zl, err := d.rd.ReadString()
		if err != nil {
			return rdbValue{}, err
		}
		lp, err := rdb.ZiplistToListpack(zl)
		if err != nil {
			return rdbValue{}, err
		}
		if lp.Len() == 0 {
			return rdbValue{}, errRDBEmpty
		}
		l.Quicklist = *quicklist.FromListpack(lp, d.cfg.ListMaxListpackSize)
		l.SetCompressDepth(d.cfg.ListCompressDepth)
		return rdbValue{typ: typeList, enc: encQuicklist, obj: l}, nil
	}
	n, err := d.count()
	if err != nil {
		return rdbValue{}, err
	}
	for range n {
		container := uint64(rdb.ContainerPacked)
		if t == rdb.TypeListQuicklist2 {
			if container, err = d.rd.ReadLen(); err != nil {
				return rdbValue{}, err
			}
			if container != rdb.ContainerPacked && container != rdb.ContainerPlain {
				return rdbValue{}, fmt.Errorf("%w: quicklist node container %d", rdb.ErrCorrupt, container)
			}
		}
		b, err := d.rd.ReadString()
		if err != nil {
			return rdbValue{}, err
		}
		switch {
		case t == rdb.TypeList:
			l.PushTail(b)
			continue
		case len(b) == 0:
			return rdbValue{}, fmt.Errorf("%w: empty quicklist node", rdb.ErrCorrupt)
		case container == rdb.ContainerPlain:
			// Redis keeps an element above its plain-node threshold in a
			// node of its own; here every node is a listpack.
			l.PushTail(b)
			continue
		}
		var lp listpack.Listpack
		if t == rdb.TypeListQuicklist {
			lp, err = rdb.ZiplistToListpack(b)
		} else {
			lp, err = loadListpack(b)
		}
		if err != nil {
			return rdbValue{}, err
		}
		l.AppendNode(lp) // an empty node is skipped, as Redis skips it
	}
	if l.Len() == 0 {
		return rdbValue{}, errRDBEmpty
	}
	return rdbValue{typ: typeList, enc: encQuicklist, obj: l}, nil
}

func (d *rdbDecoder) readSet(t byte) (rdbValue, error) {
	maxInts := d.cfg.SetMaxIntsetEntries
	switch t {
	case rdb.TypeSetIntset:
		b, err := d.blob()
		if err != nil {
			return rdbValue{}, err
		}
		ints, err := intset.Load(b)
		if err != nil {
			return rdbValue{}, fmt.Errorf("%w: %w", rdb.ErrCorrupt, err)
		}
		so := &setObj{ints: ints}
		if ints.Len() > maxInts {
			so.toHashtable()
		}
		return rdbValue{typ: typeSet, enc: so.enc(), obj: so}, nil
	case rdb.TypeSetListpack:
		b, err := d.rd.ReadString()
		if err != nil {
			return rdbValue{}, err
		}
		lp, err := loadListpack(b)
		if err != nil {
			return rdbValue{}, err
		}
		if lp.Len() == 0 {
			return rdbValue{}, errRDBEmpty
		}
		if err := d.uniq.All(&lp); err != nil {
			return rdbValue{}, err
		}
		so := &setObj{}
		if lp.Len() > maxInts {
			so.d = dict.NewSet(lp.Len())
		}
		var nb [listpack.IntBufSize]byte
		for p, ok := lp.First(); ok; p, ok = lp.Next(p) {
			so.add(lp.GetBytes(p, &nb), maxInts)
		}
		return rdbValue{typ: typeSet, enc: so.enc(), obj: so}, nil
	}
	n, err := d.count()
	if err != nil {
		return rdbValue{}, err
	}
	so := &setObj{}
	if n > uint64(maxInts) {
		so.d = dict.NewSet(sizeHint(n))
	}
	for range n {
		m, err := d.rd.ReadString()
		if err != nil {
			return rdbValue{}, err
		}
		if so.d == nil {
			if v, ok := parseInt(m); ok {
				if !so.ints.Add(v) {
					return rdbValue{}, fmt.Errorf("%w: set repeats %d", rdb.ErrCorrupt, v)
				}
				continue
			}
			so.toHashtable()
		}
		if !so.d.Add(m, nil) {
			return rdbValue{}, fmt.Errorf("%w: set repeats %q", rdb.ErrCorrupt, truncate(m, 64))
		}
	}
	return rdbValue{typ: typeSet, enc: so.enc(), obj: so}, nil
}

func (d *rdbDecoder) readZset(t byte) (rdbValue, error) {
	cfg := d.cfg
	if t == rdb.TypeZsetListpack || t == rdb.TypeZsetZiplist {
		b, err := d.rd.ReadString()
		if err != nil {
			return rdbValue{}, err
		}
		var lp listpack.Listpack
		if t == rdb.TypeZsetZiplist {
			lp, err = rdb.ZiplistToListpack(b)
		} else {
			lp, err = loadListpack(b)
		}
		if err != nil {
			return rdbValue{}, err
		}
		if err := d.uniq.Pairs(&lp); err != nil {
			return rdbValue{}, err
		}
		if lp.Len() == 0 {
			return rdbValue{}, errRDBEmpty
		}
		if err := checkZsetListpack(&lp); err != nil {
			return rdbValue{}, err
		}
		z := &zsetObj{lp: lp}
		if z.size() > cfg.ZsetMaxListpackEntries {
			z.toSkiplist()
		}
		return rdbValue{typ: typeZSet, enc: z.enc(), obj: z}, nil
	}
	n, err := d.count()
	if err != nil {
		return rdbValue{}, err
	}
	sk := zset.New()
	maxLen, total := 0, 0
	for range n {
		m, err := d.rd.ReadString()
		if err != nil {
			return rdbValue{}, err
		}
		d.buf = append(d.buf[:0], m...)
		var score float64
		if t == rdb.TypeZset2 {
			score, err = d.rd.ReadBinaryDouble()
		} else {
			score, err = d.rd.ReadDouble()
		}
		if err != nil {
			return rdbValue{}, err
		}
		if math.IsNaN(score) {
			return rdbValue{}, fmt.Errorf("%w: sorted set score is NaN", rdb.ErrCorrupt)
		}
		if sk.Find(d.buf) != zset.Nil {
			return rdbValue{}, fmt.Errorf("%w: sorted set repeats %q", rdb.ErrCorrupt, truncate(d.buf, 64))
		}
		sk.Insert(d.buf, score)
		maxLen = max(maxLen, len(d.buf))
		total += len(d.buf)
	}
	z := &zsetObj{sk: sk}
	if sk.Len() <= cfg.ZsetMaxListpackEntries && int64(maxLen) <= cfg.ZsetMaxListpackValue &&
		total <= listpack.MaxSafeSize {
		z.lp = listpack.New()
		var sb [32]byte
		it := sk.IterRank(0, false)
		for m, score, ok := it.Next(); ok; m, score, ok = it.Next() {
			z.lp.Append(m)
			z.lp.Append(lpScoreBytes(sb[:0], score))
		}
		z.sk = nil
	}
	return rdbValue{typ: typeZSet, enc: z.enc(), obj: z}, nil
}

// checkZsetListpack checks what a sorted set's listpack must hold beyond
// pairs of unique members: scores that are numbers (not NaN), in
// ascending (score, member) order.
func checkZsetListpack(lp *listpack.Listpack) error {
	var bufs [2][listpack.IntBufSize]byte
	var prevM []byte
	prev := math.Inf(-1)
	i := 0
	for p, ok := lp.First(); ok; i++ {
		sp, _ := lp.Next(p)
		s, v, isInt := lp.Get(sp)
		score := float64(v)
		if !isInt {
			f, err := strconv.ParseFloat(string(s), 64)
			if err != nil || math.IsNaN(f) {
				return fmt.Errorf("%w: sorted set score %q", rdb.ErrCorrupt, truncate(s, 64))
			}
			score = f
		}
		m := lp.GetBytes(p, &bufs[i&1])
		if i > 0 && (score < prev || score == prev && bytes.Compare(m, prevM) <= 0) {
			return fmt.Errorf("%w: sorted set listpack out of order at member %d", rdb.ErrCorrupt, i)
		}
		prev, prevM = score, m
		p, ok = lp.Next(sp)
	}
	return nil
}

func (d *rdbDecoder) readHash(t byte) (rdbValue, error) {
	cfg := d.cfg
	if t != rdb.TypeHash {
		b, err := d.rd.ReadString()
		if err != nil {
			return rdbValue{}, err
		}
		var lp listpack.Listpack
		maxLen := 0
		switch t {
		case rdb.TypeHashZipmap:
			lp, maxLen, err = rdb.ZipmapToListpack(b)
		case rdb.TypeHashZiplist:
			lp, err = rdb.ZiplistToListpack(b)
		default:
			lp, err = loadListpack(b)
		}
		if err != nil {
			return rdbValue{}, err
		}
		if err := d.uniq.Pairs(&lp); err != nil {
			return rdbValue{}, err
		}
		if lp.Len() == 0 {
			return rdbValue{}, errRDBEmpty
		}
		h := &hashObj{lp: lp}
		if h.len() > cfg.HashMaxListpackEntries || hashTooLong(maxLen, cfg.HashMaxListpackValue) {
			h.convert()
		}
		return rdbValue{typ: typeHash, enc: h.encoding(), obj: h}, nil
	}
	n, err := d.count()
	if err != nil {
		return rdbValue{}, err
	}
	h := &hashObj{}
	if n > uint64(cfg.HashMaxListpackEntries) {
		h.d = dict.NewHash(sizeHint(n))
	} else {
		h.lp = listpack.New()
	}
	for range n {
		f, err := d.rd.ReadString()
		if err != nil {
			return rdbValue{}, err
		}
		d.buf = append(d.buf[:0], f...)
		v, err := d.rd.ReadString()
		if err != nil {
			return rdbValue{}, err
		}
		f = d.buf
		if h.d == nil {
			if !hashTooLong(len(f), cfg.HashMaxListpackValue) && !hashTooLong(len(v), cfg.HashMaxListpackValue) &&
				h.lp.SafeToAdd(len(f)+len(v)) {
				h.lp.Append(f)
				h.lp.Append(v)
				continue
			}
			if err := d.uniq.Pairs(&h.lp); err != nil {
				return rdbValue{}, err
			}
			h.convert()
		}
		if !h.d.Add(f, v) {
			return rdbValue{}, fmt.Errorf("%w: hash repeats field %q", rdb.ErrCorrupt, truncate(f, 64))
		}
	}
	if h.d == nil {
		if err := d.uniq.Pairs(&h.lp); err != nil {
			return rdbValue{}, err
		}
	}
	return rdbValue{typ: typeHash, enc: h.encoding(), obj: h}, nil
}

// insertRDB files a value read from RDB at key (absent; h is
// kv.Hash(key)) with the given expire time and access clock. O(1).
func (s *Shard) insertRDB(key []byte, h uint64, v *rdbValue, expire int64, lru uint32) kv.Ref {
	m := makeMeta(v.typ, v.enc, lru)
	if v.obj != nil {
		return s.db.InsertObjectHash(key, h, v.obj, m, expire)
	}
	return s.db.InsertStringHash(key, h, v.str, m, expire)
}

// lruFromIdle is the access clock of a key last used idle seconds ago,
// as Redis's objectSetLRUOrLFU computes it (wrapping as its 24-bit clock
// does).
func lruFromIdle(clock uint32, idle int64) uint32 {
	abs := int64(clock) - idle
	if abs < 0 {
		abs += lruMask
	}
	return uint32(abs) & lruMask
}

// ---- loading a file ----------------------------------------------------

// rdbLoader loads an RDB file (or the RDB preamble of an AOF) into a
// shard's key space, a bounded number of keys per Step, so that the loop
// can serve clients between steps. It reads exactly the file's bytes from
// the bufio.Reader it was given: after the last Step, whatever follows the
// RDB (an AOF tail) is next in that reader.
//
// Keys are inserted as they are, already expired or not (an AOF's own
// DELs follow), with the encodings Redis 7.0 gives them under the shard's
// configuration, no keyspace event and no change counted. A key that is
// already present is an error, as in Redis. A loader belongs to the
// shard's loop.
type rdbLoader struct {
	s    *Shard
	rd   *rdb.Reader
	dec  rdbDecoder
	name string

	version int
	started bool
	done    bool
	err     error

	keys    int64
	skipped int64  // empty values skipped
	expire  int64  // EXPIRETIME of the next key; kv.NoExpire if none
	idle    int64  // IDLE of the next key in seconds; -1 if none
	freq    int64  // FREQ of the next key; -1 if none
	key     []byte // the key being read
}

// newRDBLoader prepares to load the RDB at r; name (the file's) goes into
// every error. Nothing is read before the first Step.
func (s *Shard) newRDBLoader(r *bufio.Reader, name string) *rdbLoader {
	rd := rdb.NewReader(r)
	return &rdbLoader{s: s, rd: rd, dec: rdbDecoder{rd: rd, cfg: s.Config}, name: name, expire: kv.NoExpire, idle: -1, freq: -1}
}

// Offset is the number of bytes of the file read so far.
func (l *rdbLoader) Offset() int64 { return l.rd.Offset() }

// Keys is the number of keys loaded so far.
func (l *rdbLoader) Keys() int64 { return l.keys }

// rdbLoadError is a load failure: the file, the offset of the record that
// failed, and why (wrapping rdb.ErrCorrupt, rdb.ErrUnsupported or
// io.ErrUnexpectedEOF, or naming a duplicate key).
type rdbLoadError struct {
	file   string
	offset int64
	err    error
}

func (e *rdbLoadError) Error() string {
	return "rdb: " + e.file + ": offset " + strconv.FormatInt(e.offset, 10) + ": " +
		strings.TrimPrefix(e.err.Error(), "rdb: ")
}

func (e *rdbLoadError) Unwrap() error { return e.err }

// errDuplicateKey is wrapped by the error for a key the key space has.
var errDuplicateKey = errors.New("duplicate key")

// Step loads up to maxKeys keys (AUX fields and the other opcodes count
// towards the bound too, so a step's work stays bounded). done is true
// once the EOF opcode and the checksum are read and checked (a checksum
// of 0 means none was written). After an error every Step returns it
// again; the keys loaded before it stay in the key space.
func (l *rdbLoader) Step(maxKeys int) (done bool, err error) {
	if l.err != nil {
		return false, l.err
	}
	if l.done {
		return true, nil
	}
	if !l.started {
		v, err := l.rd.ReadSignature()
		if err != nil {
			return false, l.fail(0, err)
		}
		l.version, l.started = v, true
	}
	for work := 0; work < max(maxKeys, 1); work++ {
		start := l.rd.Offset()
		op, err := l.rd.ReadByte()
		if err != nil {
			return false, l.fail(start, err)
		}
		if op == rdb.OpEOF {
			if err := l.finish(); err != nil {
				return false, l.fail(start, err)
			}
			return true, nil
		}
		if err := l.record(op); err != nil {
			return false, l.fail(start, err)
		}
	}
	return false, nil
}

func (l *rdbLoader) fail(offset int64, err error) error {
	l.err = &rdbLoadError{file: l.name, offset: offset, err: err}
	return l.err
}

// finish reads and checks the checksum after the EOF opcode.
func (l *rdbLoader) finish() error {
	if l.version >= 5 {
		want := l.rd.CRC()
		sum, err := l.rd.ReadUint64()
		if err != nil {
			return err
		}
		if sum != 0 && sum != want {
			return fmt.Errorf("%w: checksum %016x, computed %016x", rdb.ErrCorrupt, sum, want)
		}
	}
	if l.skipped > 0 {
		logf("warning", "Done loading RDB %s, keys loaded: %d, empty keys skipped: %d.", l.name, l.keys, l.skipped)
	}
	l.done = true
	return nil
}

// record handles one opcode or key.
func (l *rdbLoader) record(op byte) error {
	rd := l.rd
	switch op {
	case rdb.OpExpireTimeMs:
		ms, err := rd.ReadUint64()
		if err != nil {
			return err
		}
		l.setExpire(int64(ms))
	case rdb.OpExpireTime:
		sec, err := rd.ReadUint32()
		if err != nil {
			return err
		}
		l.setExpire(int64(int32(sec)) * 1000)
	case rdb.OpIdle:
		idle, err := rd.ReadLen()
		if err != nil {
			return err
		}
		l.idle = int64(min(idle, math.MaxInt64))
	case rdb.OpFreq:
		// The LFU counter, kept under an LFU policy (restoredClock).
		f, err := rd.ReadByte()
		if err != nil {
			return err
		}
		l.freq = int64(f)
	case rdb.OpSelectDB:
		db, err := rd.ReadLen()
		if err != nil {
			return err
		}
		if db >= uint64(l.s.Config.Databases) {
			return fmt.Errorf("%w: database %d, and a shard has %d", rdb.ErrUnsupported, db, l.s.Config.Databases)
		}
	case rdb.OpResizeDB:
		for range 2 {
			if _, err := rd.ReadLen(); err != nil {
				return err
			}
		}
	case rdb.OpSlotInfo:
		for range 3 {
			if _, err := rd.ReadLen(); err != nil {
				return err
			}
		}
	case rdb.OpAux:
		k, err := rd.ReadString()
		if err != nil {
			return err
		}
		isVer := string(k) == "redis-ver"
		v, err := rd.ReadString()
		if err != nil {
			return err
		}
		if isVer {
			logf("notice", "Loading RDB produced by version %s", v)
		}
	case rdb.OpModuleAux:
		return fmt.Errorf("%w: module data", rdb.ErrUnsupported)
	case rdb.OpFunction2, rdb.OpFunctionPreGA:
		code, msg := loadFunctionRecord(rd, op)
		if msg == "" {
			_, msg = l.s.createLibrary(code, false)
		}
		if msg != "" {
			return fmt.Errorf("%w: function library: %s", rdb.ErrCorrupt, msg)
		}
	default:
		if !rdb.IsValueType(op) {
			return fmt.Errorf("%w: unknown opcode or value type %d", rdb.ErrCorrupt, op)
		}
		return l.loadKey(op)
	}
	return nil
}

// setExpire records the expire time of the next key. kv keeps 0 for "no
// expire time": a key that expired at the epoch gets -1, as long past.
func (l *rdbLoader) setExpire(ms int64) {
	if ms == kv.NoExpire {
		ms = -1
	}
	l.expire = ms
}

// loadKey reads the key and value of type t and inserts them.
func (l *rdbLoader) loadKey(t byte) error {
	expire, idle, freq := l.expire, l.idle, l.freq
	l.expire, l.idle, l.freq = kv.NoExpire, -1, -1
	k, err := l.rd.ReadString()
	if err != nil {
		return err
	}
	l.key = append(l.key[:0], k...)
	v, err := l.dec.readValue(t)
	if err == errRDBEmpty {
		if l.skipped++; l.skipped <= 10 {
			logf("warning", "rdbLoadObject skipping empty key: %s", l.key)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w (key %q)", err, truncate(l.key, 128))
	}
	s := l.s
	h := kv.Hash(l.key)
	if s.db.FindHash(l.key, h) != kv.Nil {
		return fmt.Errorf("%w %q", errDuplicateKey, truncate(l.key, 128))
	}
	s.insertRDB(l.key, h, &v, expire, s.restoredClock(idle, freq))
	l.keys++
	return nil
}
