package resp

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// printfTable holds glibc's printf("%.17g") output for each float64 bit
// pattern, recorded from a C program.
var printfTable = []struct {
	bits uint64
	want string
}{
	{0x0, "0"},
	{0x8000000000000000, "-0"},
	{0x3ff0000000000000, "1"},
	{0xbff0000000000000, "-1"},
	{0x3fb999999999999a, "0.10000000000000001"},
	{0x3fe0000000000000, "0.5"},
	{0x3ff8000000000000, "1.5"},
	{0x40091eb851eb851f, "3.1400000000000001"},
	{0x3fd5555555555555, "0.33333333333333331"},
	{0x3fe5555555555555, "0.66666666666666663"},
	{0x4059000000000000, "100"},
	{0x419d6f3454000000, "123456789"},
	{0x430c6bf526340000, "1000000000000000"},
	{0x4341c37937e08000, "10000000000000000"},
	{0x4376345785d8a000, "1e+17"},
	{0x4415af1d78b58c40, "1e+20"},
	{0x444b1ae4d6e2ef50, "1e+21"},
	{0x4480f0cf064dd592, "1e+22"},
	{0x54b249ad2594c37d, "1e+100"},
	{0x7fe1ccf385ebc8a0, "1e+308"},
	{0x7fefffffffffffff, "1.7976931348623157e+308"},
	{0x1, "4.9406564584124654e-324"},
	{0x10000000000000, "2.2250738585072014e-308"},
	{0x3f1a36e2eb1c432d, "0.0001"},
	{0x3ee4f8b588e368f1, "1.0000000000000001e-05"},
	{0x3f202c9dedbc309d, "0.00012339999999999999"},
	{0x3ee9e0fcaf9380fc, "1.234e-05"},
	{0x1a56e1fc2f8f359, "1e-300"},
	{0x4340000000000000, "9007199254740992"},
	{0x4340000000000000, "9007199254740992"},
	{0x4350000000000000, "18014398509481984"},
	{0x437b69b4ba630f35, "1.2345678901234568e+17"},
	{0xc004000000000000, "-2.5"},
	{0x3ff0000800000000, "1.0000076293945312"},
	{0x3fd3333333333333, "0.29999999999999999"},
	{0x40c81cd6c8b43958, "12345.678"},
	{0x4376345785d8a000, "1e+17"},
	{0x4341c37937e08000, "10000000000000000"},
	{0x4330000000000000, "4503599627370496"},
	{0x3e4a8310bc7a31bf, "1.23456e-08"},
	{0xbf12599ed7c6fbd2, "-6.9999999999999994e-05"},
	{0x1, "4.9406564584124654e-324"},
	{0x7ff0000000000000, "inf"},
	{0xfff0000000000000, "-inf"},
	{0x7ff8000000000001, "nan"},
	{0xfff8000000000001, "-nan"},
}

func TestFormatDoubleTable(t *testing.T) {
	for _, c := range printfTable {
		f := math.Float64frombits(c.bits)
		if got := string(FormatDouble(nil, f)); got != c.want {
			t.Errorf("FormatDouble(%#x = %v) = %q, want %q", c.bits, f, got, c.want)
		}
	}
}

// TestFormatDoubleVersusPrintf compares FormatDouble with the C library's
// printf over many values, when a C compiler is at hand.
func TestFormatDoubleVersusPrintf(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "pf.c")
	prog := filepath.Join(dir, "pf")
	const csrc = `#include <stdio.h>
#include <string.h>
int main(void) {
	unsigned long long u; double d;
	while (scanf("%llx", &u) == 1) { memcpy(&d, &u, 8); printf("%.17g\n", d); }
	return 0;
}
`
	if err := os.WriteFile(src, []byte(csrc), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-O2", "-o", prog, src).CombinedOutput(); err != nil {
		t.Skipf("cannot compile: %v %s", err, out)
	}
	r := rand.New(rand.NewPCG(3, 4))
	var vals []float64
	for range 30000 {
		vals = append(vals, math.Float64frombits(r.Uint64())) // any bit pattern
	}
	for range 30000 {
		e := r.IntN(60) - 30
		vals = append(vals, (r.Float64()-0.5)*math.Pow(10, float64(e)))
	}
	for range 10000 {
		vals = append(vals, float64(r.Int64N(1<<62)-(1<<61)), float64(r.IntN(100000))/float64(1+r.IntN(1000)))
	}
	var in strings.Builder
	for _, v := range vals {
		fmt.Fprintf(&in, "%x\n", math.Float64bits(v))
	}
	cmd := exec.Command(prog)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	i, bad := 0, 0
	for sc.Scan() {
		if got := string(FormatDouble(nil, vals[i])); got != sc.Text() {
			bad++
			if bad < 10 {
				t.Errorf("FormatDouble(%#x) = %q, printf says %q", math.Float64bits(vals[i]), got, sc.Text())
			}
		}
		i++
	}
	if i != len(vals) {
		t.Fatalf("printf printed %d of %d values", i, len(vals))
	}
}
