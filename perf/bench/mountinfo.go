package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// mountEntry is what the harness keeps of one line of
// /proc/self/mountinfo: where a filesystem is mounted, its type and its
// source.
type mountEntry struct {
	MountPoint string
	FSType     string
	Source     string
}

// String is "ext4 (/dev/vda at /)".
func (m mountEntry) String() string {
	return fmt.Sprintf("%s (%s at %s)", m.FSType, m.Source, m.MountPoint)
}

// memoryFS reports whether the filesystem keeps its files in memory, so
// that fsync costs nothing.
func (m mountEntry) memoryFS() bool {
	switch m.FSType {
	case "tmpfs", "ramfs", "devtmpfs", "hugetlbfs":
		return true
	}
	return false
}

// parseMountInfo parses the text of /proc/PID/mountinfo (proc(5)):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// mount ID, parent ID, major:minor, root, mount point, mount options, any
// number of optional fields, "-", filesystem type, source, super options.
// Octal escapes (\040 for a space) in the mount point and the source are
// decoded. Empty lines are skipped; any other malformed line is an error.
func parseMountInfo(b []byte) ([]mountEntry, error) {
	var out []mountEntry
	for n, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		fields := strings.Fields(string(line))
		sep := -1
		for i := 6; i < len(fields); i++ {
			if fields[i] == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 6 || sep < 0 || len(fields) < sep+3 {
			return nil, fmt.Errorf("bench: mountinfo line %d: %q is not mount ID, parent, dev, root, mount point, options, ..., -, type, source", n+1, line)
		}
		mp := unescapeMount(fields[4])
		if !strings.HasPrefix(mp, "/") {
			return nil, fmt.Errorf("bench: mountinfo line %d: mount point %q is not absolute", n+1, mp)
		}
		out = append(out, mountEntry{MountPoint: mp, FSType: fields[sep+1], Source: unescapeMount(fields[sep+2])})
	}
	return out, nil
}

// unescapeMount decodes the octal escapes the kernel writes for space,
// tab, newline and backslash: \040, \011, \012, \134. Anything else is
// left as it is.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// mountOf returns the entry of the filesystem that holds path (absolute,
// clean, without symbolic links): the one whose mount point is the
// longest prefix of path by whole components; of equal ones the last,
// which is mounted over the others.
func mountOf(entries []mountEntry, path string) (mountEntry, bool) {
	best, found := mountEntry{}, false
	for _, e := range entries {
		mp := e.MountPoint
		under := mp == "/" || path == mp || strings.HasPrefix(path, strings.TrimSuffix(mp, "/")+"/")
		if under && (!found || len(mp) >= len(best.MountPoint)) {
			best, found = e, true
		}
	}
	return best, found
}

// filesystemOf says which filesystem holds dir, from /proc/self/mountinfo.
func filesystemOf(dir string) (mountEntry, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return mountEntry{}, fmt.Errorf("bench: %w", err)
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return mountEntry{}, fmt.Errorf("bench: %w", err)
	}
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return mountEntry{}, fmt.Errorf("bench: %w", err)
	}
	entries, err := parseMountInfo(b)
	if err != nil {
		return mountEntry{}, err
	}
	m, ok := mountOf(entries, abs)
	if !ok {
		return mountEntry{}, fmt.Errorf("bench: no mount in /proc/self/mountinfo holds %s", abs)
	}
	return m, nil
}
