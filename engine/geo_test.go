package engine

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"shoal/engine/internal/geohash"
)

// geoModelPoint is a member of the brute-force model: its stored
// position.
type geoModelPoint struct {
	name     string
	lon, lat float64
}

// checkGeoSearch runs a random GEOSEARCH over a random geo set and
// compares it with a scan of every member: the same members, each within
// the shape, sorted by distance, the COUNT nearest with COUNT, and
// GEOSEARCHSTORE storing the same set.
func checkGeoSearch(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	clon := -170 + r.Float64()*340
	clat := -75 + r.Float64()*150
	spread := math.Exp(r.Float64()*5) / 10 // degrees, 0.1 to 15
	n := 1 + r.IntN(300)
	var model []geoModelPoint
	args := []string{"GEOADD", "g"}
	for i := range n {
		lon := min(max(clon+(r.Float64()-0.5)*2*spread, -180), 180)
		lat := min(max(clat+(r.Float64()-0.5)*2*spread, -85), 85)
		name := "m" + strconv.Itoa(i)
		args = append(args, strconv.FormatFloat(lon, 'g', -1, 64), strconv.FormatFloat(lat, 'g', -1, 64), name)
		score, _ := geohash.Score(lon, lat)
		dlon, dlat := geohash.DecodeScore(float64(score))
		model = append(model, geoModelPoint{name, dlon, dlat})
	}
	if v := exec(t, s, c, args...); v.Int != int64(n) {
		t.Fatalf("GEOADD: %s", renderReply(&v))
	}

	units := []struct {
		name string
		m    float64
	}{{"m", 1}, {"km", 1000}, {"mi", 1609.34}, {"ft", 0.3048}}
	u := units[r.IntN(len(units))]
	sh := geohash.Shape{Lon: clon + (r.Float64()-0.5)*spread, Lat: clat + (r.Float64()-0.5)*spread, Conversion: u.m}
	sh.Lon = min(max(sh.Lon, -180), 180)
	sh.Lat = min(max(sh.Lat, -85), 85)
	size := func() float64 { return math.Round(spread*111000*r.Float64()/u.m*1000) / 1000 }
	search := []string{"GEOSEARCH", "g", "FROMLONLAT", strconv.FormatFloat(sh.Lon, 'g', -1, 64), strconv.FormatFloat(sh.Lat, 'g', -1, 64)}
	if r.IntN(2) == 0 {
		sh.Radius = size()
		search = append(search, "BYRADIUS", strconv.FormatFloat(sh.Radius, 'g', -1, 64), u.name)
	} else {
		sh.Box, sh.Width, sh.Height = true, 2*size(), 2*size()
		search = append(search, "BYBOX", strconv.FormatFloat(sh.Width, 'g', -1, 64), strconv.FormatFloat(sh.Height, 'g', -1, 64), u.name)
	}

	type hit struct {
		name string
		dist float64
	}
	var want []hit
	for _, p := range model {
		if d, in := sh.Within(p.lon, p.lat); in {
			want = append(want, hit{p.name, d / u.m})
		}
	}
	slices.SortStableFunc(want, func(a, b hit) int { return cmp.Compare(a.dist, b.dist) })
	desc := fmt.Sprintf("seed %d: %q", seed, search)

	v := exec(t, s, c, append(search, "ASC", "WITHDIST")...)
	if len(v.Elems) != len(want) {
		t.Fatalf("%s: %d results, the scan finds %d", desc, len(v.Elems), len(want))
	}
	got := map[string]bool{}
	prev := -1.0
	for i, e := range v.Elems {
		name := string(e.Elems[0].Str)
		d, _ := strconv.ParseFloat(string(e.Elems[1].Str), 64)
		if d < prev {
			t.Fatalf("%s: result %d at %v after %v", desc, i, d, prev)
		}
		prev = d
		if math.Abs(d-want[i].dist) > 0.00005+1e-12*want[i].dist {
			t.Fatalf("%s: result %d at %v, the scan's %d-th nearest at %v", desc, i, d, i, want[i].dist)
		}
		got[name] = true
	}
	for _, w := range want {
		if !got[w.name] {
			t.Fatalf("%s: %s (at %v) missing", desc, w.name, w.dist)
		}
	}

	if len(want) > 0 {
		k := 1 + r.IntN(len(want))
		v = exec(t, s, c, append(search, "COUNT", strconv.Itoa(k), "WITHDIST")...)
		if len(v.Elems) != k {
			t.Fatalf("%s COUNT %d: %d results", desc, k, len(v.Elems))
		}
		last, _ := strconv.ParseFloat(string(v.Elems[k-1].Elems[1].Str), 64)
		if math.Abs(last-want[k-1].dist) > 0.00005+1e-12*last {
			t.Fatalf("%s COUNT %d: farthest at %v, want %v", desc, k, last, want[k-1].dist)
		}
		v = exec(t, s, c, append(search, "COUNT", strconv.Itoa(k), "ANY")...)
		if len(v.Elems) != k {
			t.Fatalf("%s COUNT %d ANY: %d results", desc, k, len(v.Elems))
		}
		for _, e := range v.Elems {
			if !got[string(e.Str)] {
				t.Fatalf("%s COUNT %d ANY: %s is outside", desc, k, e.Str)
			}
		}
	}

	store := append([]string{"GEOSEARCHSTORE", "dst"}, search[1:]...)
	if v = exec(t, s, c, store...); v.Int != int64(len(want)) {
		t.Fatalf("%s: GEOSEARCHSTORE stored %d, want %d", desc, v.Int, len(want))
	}
	for _, w := range want {
		if v = exec(t, s, c, "ZSCORE", "dst", w.name); v.Null {
			t.Fatalf("%s: GEOSEARCHSTORE lacks %s", desc, w.name)
		}
	}
}

// TestGeoSearchMatchesScan compares GEOSEARCH with a scan of every member
// over random sets (both encodings), centres, shapes and units.
func TestGeoSearchMatchesScan(t *testing.T) {
	runs := 400
	if testing.Short() {
		runs = 50
	}
	for seed := range uint64(runs) {
		checkGeoSearch(t, seed)
	}
}

func FuzzGeoSearch(f *testing.F) {
	for _, seed := range []uint64{1, 2, 3, 1 << 40} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) { checkGeoSearch(t, seed) })
}

// TestGeoDistanceFormat checks the four-decimal distances against
// fixedpoint_d2string's outputs.
func TestGeoDistanceFormat(t *testing.T) {
	for _, c := range []struct {
		d    float64
		want string
	}{{0, "0.0000"}, {0.0001, "0.0001"}, {0.00005, "0.0000"}, {0.7750, "0.7750"},
		{1.5, "1.5000"}, {166274.15156960033, "166274.1516"}, {-2.25, "-2.2500"}, {12345678.9, "12345678.9000"}} {
		if got := string(appendGeoDistance(nil, c.d)); got != c.want {
			t.Errorf("%v: %s, want %s", c.d, got, c.want)
		}
	}
	for _, c := range []struct {
		f    float64
		want string
	}{{13.361389338970184, "13.36138933897018433"}, {180, "180"}, {-0.0, "0"}, {1e-20, "0"}, {-1e-20, "0"},
		{0.0000026822090148925781, "0.00000268220901489"}} {
		if got := string(appendGeoCoord(nil, c.f)); got != c.want {
			t.Errorf("%v: %s, want %s", c.f, got, c.want)
		}
	}
}
