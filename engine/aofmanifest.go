package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The manifest of a Redis 7 multi-part AOF: one line per file,
//
//	file appendonly.aof.2.base.rdb seq 2 type b
//	file appendonly.aof.3.incr.aof seq 3 type i
//
// in the directory appenddirname, under the name appendfilename +
// ".manifest". A base file (type b) holds the data set as of a rewrite,
// as an RDB file (".base.rdb") or as commands (".base.aof"); incremental
// files (type i) hold the commands since, in seq order; history files
// (type h) are left over from rewrites and are deleted. Redis's loader
// reads keys in any order, skips lines starting with '#', and refuses
// lines longer than 1024 bytes; so does this one.

// AOF file types, as the manifest writes them.
const (
	aofBase    = 'b'
	aofHistory = 'h'
	aofIncr    = 'i'
)

type aofFileInfo struct {
	name string
	seq  int64
	typ  byte
}

type aofManifest struct {
	base    *aofFileInfo
	incrs   []aofFileInfo
	history []aofFileInfo
}

// lastIncrSeq is the highest incr seq, 0 if none.
func (m *aofManifest) lastIncrSeq() int64 {
	if n := len(m.incrs); n > 0 {
		return m.incrs[n-1].seq
	}
	return 0
}

const manifestMaxLine = 1024

// parseManifest reads a manifest's text. Errors say which line is wrong,
// as Redis's do.
func parseManifest(text string) (*aofManifest, error) {
	m := &aofManifest{}
	lines := strings.Split(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return nil, errors.New("Found an empty AOF manifest")
	}
	var lastIncr int64
	for i, line := range lines {
		if len(line) >= manifestMaxLine {
			return nil, fmt.Errorf("The AOF manifest file contains too long line (line %d)", i+1)
		}
		line = strings.TrimRight(line, "\r")
		if strings.HasPrefix(line, "#") {
			continue
		}
		args, ok := splitArgs(line)
		if !ok || len(args) < 6 || len(args)%2 != 0 {
			return nil, fmt.Errorf("Invalid AOF manifest file format (line %d)", i+1)
		}
		var f aofFileInfo
		for j := 0; j < len(args); j += 2 {
			switch strings.ToLower(args[j]) {
			case "file":
				f.name = args[j+1]
			case "seq":
				n, err := strconv.ParseInt(args[j+1], 10, 64)
				if err != nil {
					return nil, fmt.Errorf("Invalid AOF manifest file format (line %d)", i+1)
				}
				f.seq = n
			case "type":
				if len(args[j+1]) != 1 {
					return nil, fmt.Errorf("Invalid AOF manifest file format (line %d)", i+1)
				}
				f.typ = args[j+1][0]
			}
		}
		if f.name == "" || f.seq == 0 || f.typ == 0 || strings.ContainsAny(f.name, "/\\") {
			return nil, fmt.Errorf("Invalid AOF manifest file format (line %d)", i+1)
		}
		switch f.typ {
		case aofBase:
			if m.base != nil {
				return nil, errors.New("Found duplicate base file information")
			}
			b := f
			m.base = &b
		case aofHistory:
			m.history = append(m.history, f)
		case aofIncr:
			if f.seq <= lastIncr {
				return nil, errors.New("Found a non-monotonic sequence number")
			}
			lastIncr = f.seq
			m.incrs = append(m.incrs, f)
		default:
			return nil, fmt.Errorf("Unknown AOF file type '%c' (line %d)", f.typ, i+1)
		}
	}
	return m, nil
}

// format writes the manifest's text, base first, then history, then the
// incr files in seq order.
func (m *aofManifest) format() string {
	var b strings.Builder
	line := func(f aofFileInfo) {
		b.WriteString("file ")
		b.WriteString(quoteArg(f.name))
		b.WriteString(" seq ")
		b.WriteString(strconv.FormatInt(f.seq, 10))
		b.WriteString(" type ")
		b.WriteByte(f.typ)
		b.WriteByte('\n')
	}
	if m.base != nil {
		line(*m.base)
	}
	for _, f := range m.history {
		line(f)
	}
	for _, f := range m.incrs {
		line(f)
	}
	return b.String()
}

// splitArgs splits a line into words as Redis's sdssplitargs does for the
// forms a manifest uses: bare words and double-quoted strings with
// backslash escapes.
func splitArgs(line string) ([]string, bool) {
	var out []string
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i == len(line) {
			return out, true
		}
		if line[i] == '"' {
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(line) {
				return nil, false
			}
			w, err := strconv.Unquote(line[i : j+1])
			if err != nil {
				return nil, false
			}
			out = append(out, w)
			i = j + 1
			if i < len(line) && line[i] != ' ' && line[i] != '\t' {
				return nil, false
			}
			continue
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		out = append(out, line[i:j])
		i = j
	}
}

// aofNames are the file names of one AOF, from appendfilename.
type aofNames struct{ prefix string }

func (n aofNames) manifest() string { return n.prefix + ".manifest" }
func (n aofNames) base(seq int64, rdb bool) string {
	ext := ".aof"
	if rdb {
		ext = ".rdb"
	}
	return n.prefix + "." + strconv.FormatInt(seq, 10) + ".base" + ext
}
func (n aofNames) incr(seq int64) string {
	return n.prefix + "." + strconv.FormatInt(seq, 10) + ".incr.aof"
}

// writeFileAtomic writes data to dir/name through a temporary file that
// is fsynced and renamed over it, then fsyncs the directory, so a crash
// leaves either the old file or the new one.
func writeFileAtomic(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, "temp-"+name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
