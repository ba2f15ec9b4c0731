package geohash

import "math"

// Shape is a search area: a circle of Radius, or a box of Width by
// Height, around (Lon, Lat); the sizes are in a unit of Conversion
// metres.
type Shape struct {
	Lon, Lat      float64
	Box           bool
	Radius        float64
	Width, Height float64
	Conversion    float64
}

// Bounds is the smallest box of coordinates holding the shape:
// longitudes MinLon..MaxLon, latitudes MinLat..MaxLat. Like Redis, it
// takes the longitude span at the latitude edge farther from the
// equator.
type Bounds struct{ MinLon, MinLat, MaxLon, MaxLat float64 }

// BoundsOf is the bounding box of sh. O(1).
func BoundsOf(sh *Shape) Bounds {
	height, width := sh.Radius, sh.Radius
	if sh.Box {
		height, width = sh.Height/2, sh.Width/2
	}
	height *= sh.Conversion
	width *= sh.Conversion
	latDelta := radDeg(height / EarthRadius)
	lonDeltaTop := radDeg(width / EarthRadius / math.Cos(degRad(sh.Lat+latDelta)))
	lonDeltaBottom := radDeg(width / EarthRadius / math.Cos(degRad(sh.Lat-latDelta)))
	b := Bounds{MinLat: sh.Lat - latDelta, MaxLat: sh.Lat + latDelta}
	if sh.Lat < 0 {
		b.MinLon, b.MaxLon = sh.Lon-lonDeltaBottom, sh.Lon+lonDeltaBottom
	} else {
		b.MinLon, b.MaxLon = sh.Lon-lonDeltaTop, sh.Lon+lonDeltaTop
	}
	return b
}

// EstimateSteps is the precision of the cells whose 3x3 block around a
// point covers a circle of radius metres around it, at latitude lat:
// coarser towards the poles, in 1..26.
func EstimateSteps(radius, lat float64) uint8 {
	if radius == 0 {
		return 26
	}
	step := 1
	for radius < mercatorMax {
		radius *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	return uint8(min(max(step, 1), 26))
}

// Cells are the areas a search scans: the cell holding the centre first,
// then its north, south, east, west, north-east, north-west, south-east
// and south-west neighbours. A neighbour found useless is the zero Bits.
type Cells [9]Bits

// CellsOf is the cells covering sh, chosen as Redis chooses them: the
// estimated step, one coarser when a neighbour does not reach past the
// bounding box, and the neighbours beyond an edge of the box that the
// centre cell already crosses left out. It also returns the bounding box.
func CellsOf(sh *Shape) (Cells, Bounds) {
	bb := BoundsOf(sh)
	radius := sh.Radius
	if sh.Box {
		radius = math.Sqrt(float64(sh.Width/2*(sh.Width/2)) + float64(sh.Height/2*(sh.Height/2)))
	}
	radius *= sh.Conversion
	steps := EstimateSteps(radius, sh.Lat)

	hash, _ := EncodeWGS84(sh.Lon, sh.Lat, steps)
	n := NeighboursOf(hash)
	area, _ := Decode(LonRange, LatRange, hash)

	north, _ := Decode(LonRange, LatRange, n.North)
	south, _ := Decode(LonRange, LatRange, n.South)
	east, _ := Decode(LonRange, LatRange, n.East)
	west, _ := Decode(LonRange, LatRange, n.West)
	decrease := north.Lat.Max < bb.MaxLat || south.Lat.Min > bb.MinLat ||
		east.Lon.Max < bb.MaxLon || west.Lon.Min > bb.MinLon
	if steps > 1 && decrease {
		steps--
		hash, _ = EncodeWGS84(sh.Lon, sh.Lat, steps)
		n = NeighboursOf(hash)
		area, _ = Decode(LonRange, LatRange, hash)
	}

	if steps >= 2 {
		if area.Lat.Min < bb.MinLat {
			n.South, n.SouthWest, n.SouthEast = Bits{}, Bits{}, Bits{}
		}
		if area.Lat.Max > bb.MaxLat {
			n.North, n.NorthEast, n.NorthWest = Bits{}, Bits{}, Bits{}
		}
		if area.Lon.Min < bb.MinLon {
			n.West, n.SouthWest, n.NorthWest = Bits{}, Bits{}, Bits{}
		}
		if area.Lon.Max > bb.MaxLon {
			n.East, n.SouthEast, n.NorthEast = Bits{}, Bits{}, Bits{}
		}
	}
	return Cells{hash, n.North, n.South, n.East, n.West, n.NorthEast, n.NorthWest, n.SouthEast, n.SouthWest}, bb
}

// ScoreRange is the scores of the points inside cell b: min included,
// max excluded.
func (b Bits) ScoreRange() (min, max uint64) {
	min = b.Align52()
	b.Bits++
	return min, b.Align52()
}

// LatDistance is the distance in metres between two latitudes along a
// meridian.
func LatDistance(lat1, lat2 float64) float64 {
	return EarthRadius * math.Abs(degRad(lat2)-degRad(lat1))
}

// Distance is the haversine distance in metres between two points, on a
// sphere of EarthRadius.
func Distance(lon1, lat1, lon2, lat2 float64) float64 {
	lon1r, lon2r := degRad(lon1), degRad(lon2)
	v := math.Sin((lon2r - lon1r) / 2)
	if v == 0 {
		return LatDistance(lat1, lat2)
	}
	lat1r, lat2r := degRad(lat1), degRad(lat2)
	u := math.Sin((lat2r - lat1r) / 2)
	a := float64(u*u) + float64(math.Cos(lat1r)*math.Cos(lat2r)*v*v)
	return 2.0 * EarthRadius * math.Asin(math.Sqrt(a))
}

// Within reports whether (lon, lat) lies inside sh, and its distance in
// metres from the centre when it does. A box is measured as Redis does:
// the latitude distance against half the height, then the distance along
// the point's parallel against half the width.
func (sh *Shape) Within(lon, lat float64) (dist float64, ok bool) {
	if !sh.Box {
		d := Distance(sh.Lon, sh.Lat, lon, lat)
		return d, d <= sh.Radius*sh.Conversion
	}
	width, height := sh.Width*sh.Conversion, sh.Height*sh.Conversion
	if LatDistance(lat, sh.Lat) > height/2 {
		return 0, false
	}
	if Distance(lon, lat, sh.Lon, lat) > width/2 {
		return 0, false
	}
	return Distance(sh.Lon, sh.Lat, lon, lat), true
}
