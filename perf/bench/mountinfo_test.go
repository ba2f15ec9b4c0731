package main

import (
	"strings"
	"testing"
)

const testMountInfo = `22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
25 24 0:23 / /dev/shm rw,relatime shared:3 - tmpfs tmpfs rw,size=24684084k
40 27 0:40 / /mnt/data rw master:1 propagate_from:2 - xfs /dev/sdb1 rw
41 40 0:41 / /mnt/data/fast rw - tmpfs tmpfs rw
42 27 0:42 / /mnt/my\040disk rw - btrfs /dev/my\134disk rw
43 40 0:43 / /mnt/data/fast rw - ext4 /dev/sdc rw

`

func TestParseMountInfo(t *testing.T) {
	entries, err := parseMountInfo([]byte(testMountInfo))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 7 {
		t.Fatalf("%d entries: %+v", len(entries), entries)
	}
	if e := entries[5]; e.MountPoint != "/mnt/my disk" || e.FSType != "btrfs" || e.Source != `/dev/my\disk` {
		t.Errorf("escaped entry: %+v", e)
	}
	if e := entries[3]; e.FSType != "xfs" || e.Source != "/dev/sdb1" || e.String() != "xfs (/dev/sdb1 at /mnt/data)" {
		t.Errorf("entry with optional fields: %+v", e)
	}
	for _, bad := range []string{
		"27 1 254:0 / / rw,relatime ext4 /dev/vda rw", // no separator
		"27 1 254:0 / / rw,relatime - ext4",           // no source
		"27 1 254:0 / relative rw - ext4 /dev/vda rw", // mount point not absolute
		"27 1 254:0 / / - ext4 /dev/vda rw",           // the separator where the options go
	} {
		if _, err := parseMountInfo([]byte(bad)); err == nil {
			t.Errorf("parseMountInfo(%q) accepted", bad)
		}
	}
}

func TestMountOf(t *testing.T) {
	entries, err := parseMountInfo([]byte(testMountInfo))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"/":                  "ext4 (/dev/vda at /)",
		"/tmp/x":             "ext4 (/dev/vda at /)",
		"/mnt/database":      "ext4 (/dev/vda at /)", // not under /mnt/data
		"/mnt/data":          "xfs (/dev/sdb1 at /mnt/data)",
		"/mnt/data/a/b":      "xfs (/dev/sdb1 at /mnt/data)",
		"/mnt/data/fast/aof": "ext4 (/dev/sdc at /mnt/data/fast)", // the last mount over the same point
		"/dev/shm/bench":     "tmpfs (tmpfs at /dev/shm)",
		"/mnt/my disk/shoal": `btrfs (/dev/my\disk at /mnt/my disk)`,
	}
	for path, want := range tests {
		m, ok := mountOf(entries, path)
		if !ok || m.String() != want {
			t.Errorf("mountOf(%q) = %v, %v; want %s", path, m, ok, want)
		}
	}
	if _, ok := mountOf(entries[:1], "/tmp"); ok {
		t.Error("a path outside every mount was found")
	}
	if m, _ := mountOf(entries, "/dev/shm/x"); !m.memoryFS() {
		t.Error("tmpfs is not a memory filesystem")
	}
	if m, _ := mountOf(entries, "/mnt/data"); m.memoryFS() {
		t.Error("xfs is a memory filesystem")
	}
}

func TestFilesystemOf(t *testing.T) {
	m, err := filesystemOf(t.TempDir())
	if err != nil {
		t.Skipf("no mountinfo here: %v", err)
	}
	if m.FSType == "" || !strings.HasPrefix(m.MountPoint, "/") {
		t.Errorf("filesystemOf(temp dir) = %+v", m)
	}
	if _, err := filesystemOf("/no/such/dir"); err == nil {
		t.Error("a missing directory has a filesystem")
	}
}

func TestUnescapeMount(t *testing.T) {
	tests := map[string]string{
		`plain`:         "plain",
		`a\040b`:        "a b",
		`tab\011nl\012`: "tab\tnl\n",
		`back\134slash`: `back\slash`,
		`short\04`:      `short\04`,
		`not\400octal`:  `not\400octal`,
		`trail\`:        `trail\`,
	}
	for in, want := range tests {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}
