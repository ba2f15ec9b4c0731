package main

import (
	"slices"
	"strings"
	"testing"
)

const csv7 = `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"SET","79051.38","0.340","0.080","0.319","0.487","0.823","1.847"
"GET","81967.21","0.315","0.112","0.303","0.423","0.479","0.807"
`

func TestParseBenchmarkCSV(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Sample
		wantErr string
	}{
		{name: "redis 7", in: csv7, want: []Sample{
			{Test: "SET", RPS: 79051.38, AvgMs: 0.340, MinMs: 0.080, P50Ms: 0.319, P95Ms: 0.487, P99Ms: 0.823, MaxMs: 1.847},
			{Test: "GET", RPS: 81967.21, AvgMs: 0.315, MinMs: 0.112, P50Ms: 0.303, P95Ms: 0.423, P99Ms: 0.479, MaxMs: 0.807},
		}},
		{name: "columns reordered, unknown column, CRLF",
			in:   "\"p99_latency_ms\",\"extra\",\"test\",\"rps\"\r\n\"1.5\",\"zz\",\"get\",\"100\"\r\n",
			want: []Sample{{Test: "GET", RPS: 100, P99Ms: 1.5}}},
		{name: "test column last", in: "\"rps\",\"test\"\n\"1\",\"SET\"\n",
			want: []Sample{{Test: "SET", RPS: 1}}},
		{name: "redis 6 style rps only", in: "\"test\",\"rps\"\n\"PING_INLINE\",\"12345.68\"\n",
			want: []Sample{{Test: "PING_INLINE", RPS: 12345.68}}},
		{name: "noise before header", in: "WARNING: something\n" + csv7, want: []Sample{
			{Test: "SET", RPS: 79051.38, AvgMs: 0.340, MinMs: 0.080, P50Ms: 0.319, P95Ms: 0.487, P99Ms: 0.823, MaxMs: 1.847},
			{Test: "GET", RPS: 81967.21, AvgMs: 0.315, MinMs: 0.112, P50Ms: 0.303, P95Ms: 0.423, P99Ms: 0.479, MaxMs: 0.807},
		}},
		{name: "header only", in: "\"test\",\"rps\"\n", want: nil},
		{name: "empty", in: "", wantErr: "no header"},
		{name: "no rps column", in: "\"test\",\"p50_latency_ms\"\n", wantErr: "no rps"},
		{name: "repeated column", in: "\"test\",\"rps\",\"rps\"\n", wantErr: "repeated"},
		{name: "short record", in: "\"test\",\"rps\",\"p50_latency_ms\"\n\"SET\",\"1\"\n", wantErr: "fields"},
		{name: "bad number", in: "\"test\",\"rps\"\n\"SET\",\"fast\"\n", wantErr: "bad number"},
		{name: "NaN", in: "\"test\",\"rps\"\n\"SET\",\"NaN\"\n", wantErr: "bad number"},
		{name: "negative", in: "\"test\",\"rps\"\n\"SET\",\"-1\"\n", wantErr: "bad number"},
		{name: "empty test", in: "\"test\",\"rps\"\n\"\",\"1\"\n", wantErr: "empty test"},
		{name: "broken quoting", in: "\"test\",\"rps\"\n\"SET,\"1\n", wantErr: "CSV"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBenchmarkCSV(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func BenchmarkParseBenchmarkCSV(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(csv7)))
	for b.Loop() {
		if _, err := parseBenchmarkCSV(strings.NewReader(csv7)); err != nil {
			b.Fatal(err)
		}
	}
}
