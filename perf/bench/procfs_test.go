package main

import (
	"os"
	"testing"
	"time"
)

const sampleStatus = "Name:\tredis-server\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t  70640 kB\n" +
	"VmHWM:\t    9408 kB\nVmRSS:\t    9380 kB\nThreads:\t5\n" +
	"Cpus_allowed:\t2\nCpus_allowed_list:\t1\nMems_allowed_list:\t0\n"

func TestParseProcStatus(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    ProcStatus
		wantErr bool
	}{
		{name: "redis", in: sampleStatus, want: ProcStatus{VmRSSKB: 9380, VmHWMKB: 9408, Threads: 5, CPUsAllowed: "1"}},
		{name: "kernel thread has no Vm lines", in: "Name:\tkthreadd\nThreads:\t1\nCpus_allowed_list:\t0-63\n",
			want: ProcStatus{Threads: 1, CPUsAllowed: "0-63"}},
		{name: "no trailing newline", in: "VmRSS:\t12 kB", want: ProcStatus{VmRSSKB: 12}},
		{name: "empty", in: "", want: ProcStatus{}},
		{name: "bad unit", in: "VmRSS:\t12 MB\n", wantErr: true},
		{name: "bad number", in: "VmRSS:\tx kB\n", wantErr: true},
		{name: "negative", in: "VmHWM:\t-3 kB\n", wantErr: true},
		{name: "bad threads", in: "Threads:\tmany\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcStatus([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadProcStatusSelf(t *testing.T) {
	st, err := readProcStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.VmRSSKB <= 0 || st.VmHWMKB < st.VmRSSKB || st.Threads < 1 || st.CPUsAllowed == "" {
		t.Errorf("implausible status of this process: %+v", st)
	}
	if _, err := readProcStatus(-1); err == nil {
		t.Error("readProcStatus(-1) succeeded")
	}
}

func TestParseProcCPU(t *testing.T) {
	// A command name with spaces and a parenthesis, utime 250, stime 50,
	// children's 30 and 70.
	stat := "4242 (shoal (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 30 70 20 0 5 0 1 2 3\n"
	got, err := parseProcCPU([]byte(stat))
	if err != nil || got != 4.0 {
		t.Fatalf("parseProcCPU = %v, %v; want 4 s", got, err)
	}
	for _, bad := range []string{"4242 shoal S 1", "4242 (shoal) S 1 2 3", "4242 (shoal) S 1 4242 4242 0 -1 4194560 100 0 0 0 x 50 0 0"} {
		if _, err := parseProcCPU([]byte(bad)); err == nil {
			t.Errorf("parseProcCPU(%q) succeeded", bad)
		}
	}
	// The test's own process, once it has used a few clock ticks.
	x := 0
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		for i := range 1_000_000 {
			x += i
		}
		if self, err := readProcCPU(os.Getpid()); err != nil || self > 0 {
			if err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("readProcCPU(self) still 0 after 2 s of work (%d)", x)
}
