// Package geohash is the geohash arithmetic of Redis's geo commands: the
// 52-bit interleaved cell of a longitude/latitude pair that a geo set
// keeps as a member's score, its decoding back to the cell's centre, the
// neighbouring cells, the nine cells that cover a search area, and the
// haversine distances on Redis's earth radius.
//
// Every result is the one Redis 7.0 (geohash.c, geohash_helper.c)
// computes, bit for bit where the operations are exact: the same
// constants, the same order of floating-point operations, and explicit
// float64 conversions wherever a compiler could otherwise fuse a multiply
// and an add, which Redis's x86-64 build never does. sin, cos and asin
// come from Go's math package and may differ from the C library's in the
// last bit.
//
// The package holds no state; everything in it is safe for concurrent
// use.
package geohash

import "math"

// The coordinates a cell can hold (EPSG:900913): the latitude stops short
// of the poles, where the Mercator projection diverges.
const (
	LonMin = -180.0
	LonMax = 180.0
	LatMin = -85.05112878
	LatMax = 85.05112878
)

// StepMax is the precision of a stored score: 26 bits of each coordinate,
// 52 bits in all, which a float64 holds exactly.
const StepMax = 26

// EarthRadius is the earth's quadratic mean radius for WGS-84 in metres,
// the one Redis's distances use.
const EarthRadius = 6372797.560856

// mercatorMax is half the circumference of the Mercator projection, in
// metres.
const mercatorMax = 20037726.37

// dR is π/180 as C computes M_PI / 180.0: the rounded π divided at run
// time, not the exact constant quotient Go would fold.
var dR = func() float64 { pi := math.Pi; return pi / 180.0 }()

// degRad and radDeg convert between degrees and radians; the explicit
// conversion keeps a caller's product from fusing with a sum.
func degRad(a float64) float64 { return float64(a * dR) }
func radDeg(a float64) float64 { return a / dR }

// Range is an interval of one coordinate.
type Range struct{ Min, Max float64 }

// The ranges of the stored scores, and of the standard geohash strings
// GEOHASH gives (which span the whole -90..90 of latitude).
var (
	LonRange    = Range{LonMin, LonMax}
	LatRange    = Range{LatMin, LatMax}
	StdLatRange = Range{-90, 90}
)

// Bits is a cell: Step bits of each coordinate interleaved, longitude in
// the odd bits and latitude in the even ones. The zero value stands for
// no cell (a neighbour left out of a search).
type Bits struct {
	Bits uint64
	Step uint8
}

// IsZero reports whether b is no cell.
func (b Bits) IsZero() bool { return b.Bits == 0 && b.Step == 0 }

// Align52 is the cell as a 52-bit score: its bits shifted to the top of
// 52, so that the scores of everything inside it start with them.
func (b Bits) Align52() uint64 { return b.Bits << (52 - 2*uint(b.Step)) }

// spread puts the 32 bits of v in the even bits of a uint64.
func spread(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000FFFF0000FFFF
	x = (x | x<<8) & 0x00FF00FF00FF00FF
	x = (x | x<<4) & 0x0F0F0F0F0F0F0F0F
	x = (x | x<<2) & 0x3333333333333333
	x = (x | x<<1) & 0x5555555555555555
	return x
}

// squash gathers the even bits of v into 32 bits.
func squash(v uint64) uint32 {
	x := v & 0x5555555555555555
	x = (x | x>>1) & 0x3333333333333333
	x = (x | x>>2) & 0x0F0F0F0F0F0F0F0F
	x = (x | x>>4) & 0x00FF00FF00FF00FF
	x = (x | x>>8) & 0x0000FFFF0000FFFF
	x = (x | x>>16) & 0x00000000FFFFFFFF
	return uint32(x)
}

// interleave puts lat in the even bits and lon in the odd ones.
func interleave(lat, lon uint32) uint64 { return spread(lat) | spread(lon)<<1 }

// Encode is the cell of step bits per coordinate holding (lon, lat)
// within the given ranges; ok is false when the point lies outside them
// or outside the storable coordinates, or step is not in 1..32.
func Encode(lonR, latR Range, lon, lat float64, step uint8) (b Bits, ok bool) {
	if step == 0 || step > 32 || (latR.Min == 0 && latR.Max == 0) || (lonR.Min == 0 && lonR.Max == 0) {
		return Bits{}, false
	}
	if lon > LonMax || lon < LonMin || lat > LatMax || lat < LatMin {
		return Bits{}, false
	}
	if lat < latR.Min || lat > latR.Max || lon < lonR.Min || lon > lonR.Max {
		return Bits{}, false
	}
	latOff := (lat - latR.Min) / (latR.Max - latR.Min)
	lonOff := (lon - lonR.Min) / (lonR.Max - lonR.Min)
	latOff *= float64(uint64(1) << step)
	lonOff *= float64(uint64(1) << step)
	return Bits{Bits: interleave(uint32(latOff), uint32(lonOff)), Step: step}, true
}

// EncodeWGS84 is Encode over the storable coordinates.
func EncodeWGS84(lon, lat float64, step uint8) (Bits, bool) {
	return Encode(LonRange, LatRange, lon, lat, step)
}

// Score is the 52-bit score of (lon, lat): what GEOADD stores. ok is false
// outside the storable coordinates.
func Score(lon, lat float64) (uint64, bool) {
	b, ok := EncodeWGS84(lon, lat, StepMax)
	return b.Align52(), ok
}

// Area is the rectangle a cell covers.
type Area struct {
	Lon, Lat Range
}

// Decode is the area of cell b within the given ranges; ok is false for
// the zero cell.
func Decode(lonR, latR Range, b Bits) (a Area, ok bool) {
	if b.IsZero() || (latR.Min == 0 && latR.Max == 0) || (lonR.Min == 0 && lonR.Max == 0) {
		return Area{}, false
	}
	latScale := latR.Max - latR.Min
	lonScale := lonR.Max - lonR.Min
	ilat := squash(b.Bits)
	ilon := squash(b.Bits >> 1)
	cells := float64(uint64(1) << b.Step)
	a.Lat.Min = latR.Min + float64(float64(ilat)/cells*latScale)
	a.Lat.Max = latR.Min + float64(float64(uint64(ilat)+1)/cells*latScale)
	a.Lon.Min = lonR.Min + float64(float64(ilon)/cells*lonScale)
	a.Lon.Max = lonR.Min + float64(float64(uint64(ilon)+1)/cells*lonScale)
	return a, true
}

// Centre is the middle of a, clamped to the storable coordinates.
func (a Area) Centre() (lon, lat float64) {
	lon = (a.Lon.Min + a.Lon.Max) / 2
	lon = min(max(lon, LonMin), LonMax)
	lat = (a.Lat.Min + a.Lat.Max) / 2
	lat = min(max(lat, LatMin), LatMax)
	return lon, lat
}

// DecodeScore is the point a stored score stands for: the centre of its
// cell. A score is read as Redis reads it, truncated to an integer
// (scoreBits).
func DecodeScore(score float64) (lon, lat float64) {
	a, _ := Decode(LonRange, LatRange, Bits{Bits: scoreBits(score), Step: StepMax})
	return a.Centre()
}

// scoreBits is a score converted to 64 bits as Redis's C cast does on
// x86-64: a negative score in the int64 range wraps round (-7 is
// 2^64-7), a lower one is 2^63, one of 2^64 or more is 0. Go leaves such
// conversions to the machine (arm64 saturates), so they are spelled out:
// a geo set holding a foreign score decodes the same everywhere.
func scoreBits(score float64) uint64 {
	switch {
	case score >= 1<<64:
		return 0
	case score >= 0:
		return uint64(score)
	case score >= -(1 << 63):
		return uint64(int64(score))
	}
	return 1 << 63
}

// The interleaved bits of a cell: longitude in the odd positions,
// latitude in the even ones.
const (
	lonBits = 0xaaaaaaaaaaaaaaaa
	latBits = 0x5555555555555555
)

// moveX moves b one cell east (d > 0) or west, wrapping around.
func moveX(b *Bits, d int) { move(b, d, lonBits) }

// moveY moves b one cell north (d > 0) or south, wrapping around.
func moveY(b *Bits, d int) { move(b, d, latBits) }

// move adds d (+1 or -1) to the coordinate whose bits are lane, the
// other coordinate's bits forming the carry chain's gaps.
func move(b *Bits, d int, lane uint64) {
	v := b.Bits & lane
	other := b.Bits &^ lane
	zz := ^lane >> (64 - 2*uint(b.Step))
	if d > 0 {
		v += zz + 1
	} else {
		v |= zz
		v -= zz + 1
	}
	v &= lane >> (64 - 2*uint(b.Step))
	b.Bits = v | other
}

// Neighbours are the eight cells around one, of its step.
type Neighbours struct {
	North, South, East, West                   Bits
	NorthEast, NorthWest, SouthEast, SouthWest Bits
}

// NeighboursOf is the eight cells around b.
func NeighboursOf(b Bits) Neighbours {
	n := Neighbours{b, b, b, b, b, b, b, b}
	moveX(&n.East, 1)
	moveX(&n.West, -1)
	moveY(&n.South, -1)
	moveY(&n.North, 1)
	moveX(&n.NorthWest, -1)
	moveY(&n.NorthWest, 1)
	moveX(&n.NorthEast, 1)
	moveY(&n.NorthEast, 1)
	moveX(&n.SouthEast, 1)
	moveY(&n.SouthEast, -1)
	moveX(&n.SouthWest, -1)
	moveY(&n.SouthWest, -1)
	return n
}

const base32 = "0123456789bcdefghjkmnpqrstuvwxyz"

// AppendStandard appends the 11-character standard geohash of a stored
// score, as GEOHASH gives it: the point decoded, encoded again over the
// full -90..90 latitude range with 26 bits per coordinate, written in
// base 32, the eleventh character standing for two missing bits as
// zeros.
func AppendStandard(dst []byte, score float64) []byte {
	lon, lat := DecodeScore(score)
	b, _ := Encode(LonRange, StdLatRange, lon, lat, StepMax)
	for i := range 10 {
		dst = append(dst, base32[(b.Bits>>(52-(i+1)*5))&0x1f])
	}
	return append(dst, base32[0])
}
