package geohash

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

// human formats f as Redis's GEOPOS does (%.17Lf, trailing zeros cut).
func human(f float64) string {
	s := new(big.Float).SetFloat64(f).Text('f', 17)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// points are coordinates with what redis-server 7.0.15 gave for them:
// GEOADD's score, GEOHASH and GEOPOS.
var points = []struct {
	lon, lat float64
	score    uint64
	hash     string
	pLon     string
	pLat     string
}{
	{13.361389, 38.115556, 3479099956230698, "sqc8b49rny0", "13.36138933897018433", "38.11555639549629859"},
	{15.087269, 37.502669, 3479447370796909, "sqdtr74hyu0", "15.08726745843887329", "37.50266842333162032"},
	{-122.4194, 37.7749, 1367859919124626, "9q8yyk8ytp0", "-122.41940170526504517", "37.77490001056577995"},
	{0, 0, 3377699720527872, "s0000000000", "0.00000268220901489", "0.00000126736058093"},
	{-180, -85.05112878, 0, "00bh0hbj200", "-179.99999731779098511", "-85.05112751263942528"},
	{180, 85.05112878, 13510798882111488, "bp05b5048p0", "180", "85.0511287799999991"},
	{139.6917, 35.6895, 4171231230197045, "xn774c06kt0", "139.69170123338699341", "35.68950126697937009"},
	{-0.1278, 51.5074, 2163557714755072, "gcpvj0duq50", "-0.12779921293258667", "51.50740077990133159"},
	{151.2093, -33.8688, 3252046221964352, "r3gx2f77bj0", "151.20929986238479614", "-33.86880091934155956"},
	{-73.935242, 40.730610, 1791875640195835, "dr5rtwccpb0", "-73.93524438142776489", "40.73061047253818145"},
	{179.999, -85, 3002400025505895, "pbzurypr0e0", "179.99899953603744507", "-84.99999965213439168"},
	{1e-10, -1e-10, 2627099782632789, "kpbpbpbpbp0", "0.00000268220901489", "-0.00000126736058093"},
}

// dists are GEODIST between consecutive points, as redis-server gave it
// (metres, 4 decimals).
var dists = []string{"166274.1516", "10581127.7285", "12799027.2513", "10560811.9169", "18919844.5891",
	"5628736.4998", "9561410.4743", "16998728.2324", "15999353.1876", "14674733.5202", "10566498.3976"}

func TestEncodeDecodeAsRedis(t *testing.T) {
	for _, p := range points {
		score, ok := Score(p.lon, p.lat)
		if !ok || score != p.score {
			t.Errorf("Score(%v, %v) = %d, %v; want %d", p.lon, p.lat, score, ok, p.score)
		}
		if got := string(AppendStandard(nil, float64(p.score))); got != p.hash {
			t.Errorf("hash of %d = %s, want %s", p.score, got, p.hash)
		}
		lon, lat := DecodeScore(float64(p.score))
		if human(lon) != p.pLon || human(lat) != p.pLat {
			t.Errorf("decode %d = %s %s, want %s %s", p.score, human(lon), human(lat), p.pLon, p.pLat)
		}
	}
	for i, want := range dists {
		a, b := points[i], points[i+1]
		lon1, lat1 := DecodeScore(float64(a.score))
		lon2, lat2 := DecodeScore(float64(b.score))
		d := Distance(lon1, lat1, lon2, lat2)
		if got := fixed4(d); got != want {
			t.Errorf("distance %d-%d = %s, want %s", i, i+1, got, want)
		}
	}
}

func fixed4(d float64) string {
	return new(big.Float).SetFloat64(math.RoundToEven(d*1e4)/1e4).Text('f', 4)
}

func TestEncodeRejects(t *testing.T) {
	for _, c := range [][2]float64{{180.0001, 0}, {-180.0001, 0}, {0, 85.06}, {0, -85.06}, {math.NaN(), 0}} {
		if _, ok := Score(c[0], c[1]); ok && !math.IsNaN(c[0]) {
			t.Errorf("Score(%v, %v) accepted", c[0], c[1])
		}
	}
	if _, ok := EncodeWGS84(0, 0, 0); ok {
		t.Error("step 0 accepted")
	}
	if _, ok := EncodeWGS84(0, 0, 33); ok {
		t.Error("step 33 accepted")
	}
}

// TestRoundTrip checks that a point decodes to the centre of the cell it
// was encoded in, within the cell's size, over random points.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cellLon := 360.0 / (1 << 26)
	cellLat := (LatMax - LatMin) / (1 << 26)
	for range 100000 {
		lon := LonMin + r.Float64()*(LonMax-LonMin)
		lat := LatMin + r.Float64()*(LatMax-LatMin)
		s, ok := Score(lon, lat)
		if !ok || s >= 1<<52 {
			t.Fatalf("Score(%v, %v) = %d, %v", lon, lat, s, ok)
		}
		dlon, dlat := DecodeScore(float64(s))
		if math.Abs(dlon-lon) > cellLon/2+1e-12 || math.Abs(dlat-lat) > cellLat/2+1e-12 {
			t.Fatalf("(%v, %v) decodes to (%v, %v)", lon, lat, dlon, dlat)
		}
		if s2, _ := Score(dlon, dlat); s2 != s {
			t.Fatalf("centre of %d encodes to %d", s, s2)
		}
	}
}

// TestNeighbours checks the eight neighbours against the cells of the
// points one cell away, away from the wrap-around edges.
func TestNeighbours(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		step := uint8(1 + r.IntN(26))
		lon := -170 + r.Float64()*340
		lat := -80 + r.Float64()*160
		b, _ := EncodeWGS84(lon, lat, step)
		a, _ := Decode(LonRange, LatRange, b)
		w, h := a.Lon.Max-a.Lon.Min, a.Lat.Max-a.Lat.Min
		cx, cy := a.Centre()
		at := func(dx, dy float64) Bits {
			x, y := cx+dx*w, cy+dy*h
			if x < LonMin || x > LonMax || y < LatMin || y > LatMax {
				return Bits{}
			}
			c, _ := EncodeWGS84(x, y, step)
			return c
		}
		n := NeighboursOf(b)
		for _, c := range []struct {
			got    Bits
			dx, dy float64
		}{{n.North, 0, 1}, {n.South, 0, -1}, {n.East, 1, 0}, {n.West, -1, 0}, {n.NorthEast, 1, 1},
			{n.NorthWest, -1, 1}, {n.SouthEast, 1, -1}, {n.SouthWest, -1, -1}} {
			if want := at(c.dx, c.dy); !want.IsZero() && want != c.got {
				t.Fatalf("step %d (%v,%v) neighbour (%v,%v) = %x, want %x", step, lon, lat, c.dx, c.dy, c.got.Bits, want.Bits)
			}
		}
	}
}

func TestEstimateSteps(t *testing.T) {
	for _, c := range []struct {
		r, lat float64
		want   uint8
	}{{0, 0, 26}, {1, 0, 24}, {1000, 0, 14}, {1000, 70, 13}, {1000, -85, 12}, {5e6, 0, 2}, {1e7, 0, 1}, {1e9, 0, 1}} {
		if got := EstimateSteps(c.r, c.lat); got != c.want {
			t.Errorf("EstimateSteps(%v, %v) = %d, want %d", c.r, c.lat, got, c.want)
		}
	}
}

// TestCellsCover checks the search cells: every point of the shape lies
// in one of them.
func TestCellsCover(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		sh := &Shape{Lon: -179 + r.Float64()*358, Lat: -80 + r.Float64()*160, Conversion: 1}
		if r.IntN(2) == 0 {
			sh.Radius = math.Exp(r.Float64() * 14)
		} else {
			sh.Box = true
			sh.Width, sh.Height = math.Exp(r.Float64()*14), math.Exp(r.Float64()*14)
		}
		cells, _ := CellsOf(sh)
		for range 200 {
			lon := sh.Lon + (r.Float64()-0.5)*2*math.Min(180, 2*radDeg(math.Max(sh.Radius, math.Max(sh.Width, sh.Height))/EarthRadius)/math.Cos(degRad(sh.Lat)))
			lat := sh.Lat + (r.Float64()-0.5)*2*radDeg(math.Max(sh.Radius, math.Max(sh.Width, sh.Height))/EarthRadius)
			if lon < LonMin || lon > LonMax || lat < LatMin || lat > LatMax {
				continue
			}
			s, _ := Score(lon, lat)
			dlon, dlat := DecodeScore(float64(s))
			if _, in := sh.Within(dlon, dlat); !in {
				continue
			}
			found := false
			for _, c := range cells {
				if c.IsZero() {
					continue
				}
				lo, hi := c.ScoreRange()
				if s >= lo && s < hi {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("shape %+v: point (%v, %v) in no cell", *sh, dlon, dlat)
			}
		}
	}
}

// TestScoreBits: scores convert as Redis's cast does on x86-64, whatever
// the machine.
func TestScoreBits(t *testing.T) {
	for _, tc := range []struct {
		score float64
		want  uint64
	}{
		{0, 0}, {1.5, 1}, {3393034985994133, 3393034985994133},
		{-7, 1<<64 - 7}, {-0.5, 0}, {-(1 << 63), 1 << 63},
		{-1e30, 1 << 63}, {1e30, 0}, {1 << 64, 0}, {1 << 63, 1 << 63},
	} {
		if got := scoreBits(tc.score); got != tc.want {
			t.Errorf("scoreBits(%v) = %#x, want %#x", tc.score, got, tc.want)
		}
	}
}
