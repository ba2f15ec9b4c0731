package engine

import (
	"cmp"
	"math"
	"slices"
	"strconv"

	"shoal/engine/internal/geohash"
	"shoal/engine/internal/zset"
)

// The geo family: GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH,
// GEOSEARCHSTORE and the older GEORADIUS, GEORADIUSBYMEMBER and their _RO
// forms, with Redis 7.0's semantics, replies and errors (geo.c).
//
// A geo set is an ordinary sorted set: each member's score is the 52-bit
// geohash of its position (engine/internal/geohash), so every sorted set
// command works on it and DUMP, RESTORE and the AOF see a sorted set.
// GEOADD runs as the ZADD of those scores and is recorded as that ZADD,
// as Redis does. A search scans the score ranges of the nine cells around
// the centre, keeps the points inside the shape, and sorts them by
// distance when asked.
//
// Distances are written as Redis writes them: in the unit asked for, with
// four decimals, as bulk strings in both protocols; coordinates as
// Redis's long doubles (%.17Lf with trailing zeros cut), bulk strings in
// RESP2 and doubles in RESP3.

// Errors only this family replies.
const (
	errGeoUnit       = "ERR unsupported unit provided. please use M, KM, FT, MI"
	errGeoRadius     = "ERR need numeric radius"
	errGeoRadiusNeg  = "ERR radius cannot be negative"
	errGeoWidth      = "ERR need numeric width"
	errGeoHeight     = "ERR need numeric height"
	errGeoBoxNeg     = "ERR height or width cannot be negative"
	errGeoMember     = "ERR could not decode requested zset member"
	errGeoCount      = "ERR COUNT must be > 0"
	errGeoAny        = "ERR the ANY argument requires COUNT argument"
	errGeoStoreWith  = "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
	errGeoSearchWith = "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
)

// ---- arguments and replies ----------------------------------------------

// geoLonLat reads a longitude and a latitude as Redis's
// extractLongLatOrReply: two floats, then the range check.
func geoLonLat(c *Client, lonArg, latArg []byte) (lon, lat float64, ok bool) {
	if lon, ok = parseScore(lonArg); !ok {
		c.Error(errNotFloat)
		return 0, 0, false
	}
	if lat, ok = parseScore(latArg); !ok {
		c.Error(errNotFloat)
		return 0, 0, false
	}
	if lon < geohash.LonMin || lon > geohash.LonMax || lat < geohash.LatMin || lat > geohash.LatMax {
		msg := appendCFixed6([]byte("ERR invalid longitude,latitude pair "), lon)
		msg = appendCFixed6(append(msg, ','), lat)
		c.Error(string(msg))
		return 0, 0, false
	}
	return lon, lat, true
}

// appendCFixed6 writes f as C's printf("%f").
func appendCFixed6(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	return strconv.AppendFloat(dst, f, 'f', 6, 64)
}

// geoUnit is the metres in a unit (m, km, ft, mi in any case); ok false
// after the error reply.
func geoUnit(c *Client, u []byte) (float64, bool) {
	switch {
	case eqFold(u, "m"):
		return 1, true
	case eqFold(u, "km"):
		return 1000, true
	case eqFold(u, "ft"):
		return 0.3048, true
	case eqFold(u, "mi"):
		return 1609.34, true
	}
	c.Error(errGeoUnit)
	return 0, false
}

// geoLength reads a radius, width or height: a float (errMsg otherwise)
// that the caller checks for sign.
func geoLength(c *Client, b []byte, errMsg string) (float64, bool) {
	f, ok := parseScore(b)
	if !ok {
		c.Error(errMsg)
	}
	return f, ok
}

// appendGeoDistance writes d with four decimals as Redis's
// fixedpoint_d2string: d×10⁴ rounded half to even, the point put back.
func appendGeoDistance(dst []byte, d float64) []byte {
	if d == 0 {
		return append(dst, "0.0000"...)
	}
	v := int64(math.RoundToEven(d * 10000))
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var tmp [24]byte
	digits := strconv.AppendInt(tmp[:0], v, 10)
	if len(digits) <= 4 {
		dst = append(dst, "0."...)
		for range 4 - len(digits) {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-4]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-4:]...)
}

func replyGeoDistance(c *Client, d float64) {
	var buf [32]byte
	c.Bulk(appendGeoDistance(buf[:0], d))
}

// appendGeoCoord writes a coordinate as Redis's addReplyHumanLongDouble
// formats it: the exact value with 17 decimals, trailing zeros and point
// cut.
func appendGeoCoord(dst []byte, f float64) []byte {
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', 17, 64)
	return trimDecimals(dst, start)
}

// replyGeoCoord writes a coordinate: a bulk string in RESP2, a double in
// RESP3.
func replyGeoCoord(c *Client, f float64) {
	var buf [48]byte
	s := appendGeoCoord(buf[:0], f)
	if !c.Resp3 {
		c.Bulk(s)
		return
	}
	c.Out = append(c.Out, ',')
	c.Out = append(c.Out, s...)
	c.Out = append(c.Out, '\r', '\n')
}

// ---- GEOADD ---------------------------------------------------------------

// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD of the
// members with their positions' scores, replying and notifying as ZADD,
// and recorded as that ZADD. O(log n) per member (O(n) as a listpack).
func geoaddCmd(s *Shard, c *Client, argv [][]byte) {
	nx, xx := false, false
	i := 2
	for ; i < len(argv); i++ {
		switch a := argv[i]; {
		case eqFold(a, "nx"):
			nx = true
		case eqFold(a, "xx"):
			xx = true
		case eqFold(a, "ch"):
		default:
			goto done
		}
	}
done:
	if (len(argv)-i)%3 != 0 || (nx && xx) {
		c.Error(errSyntax)
		return
	}
	n := (len(argv) - i) / 3
	zargv := make([][]byte, 0, i+2*n)
	zargv = append(zargv, []byte("zadd"))
	zargv = append(zargv, argv[1:i]...)
	for j := i; j < len(argv); j += 3 {
		lon, lat, ok := geoLonLat(c, argv[j], argv[j+1])
		if !ok {
			return
		}
		score, _ := geohash.Score(lon, lat)
		zargv = append(zargv, strconv.AppendUint(nil, score, 10), argv[j+2])
	}
	mark := s.dirty
	zaddGeneric(s, c, zargv, 0)
	if s.dirty != mark {
		s.propagateAs(zargv...)
	}
}

// ---- GEOPOS, GEOHASH, GEODIST ---------------------------------------------

// GEOPOS key member [member ...]: each member's [longitude, latitude], a
// null array for a missing one. O(m log n).
func geoposCmd(s *Shard, c *Client, argv [][]byte) {
	z, _, ok := s.lookupZset(c, argv[1], true)
	if !ok {
		return
	}
	c.ArrayLen(len(argv) - 2)
	for _, m := range argv[2:] {
		var score float64
		found := false
		if z != nil {
			score, found = z.score(m)
		}
		if !found {
			c.NullArray()
			continue
		}
		lon, lat := geohash.DecodeScore(score)
		c.ArrayLen(2)
		replyGeoCoord(c, lon)
		replyGeoCoord(c, lat)
	}
}

// GEOHASH key member [member ...]: each member's 11-character standard
// geohash, null for a missing one. O(m log n).
func geohashCmd(s *Shard, c *Client, argv [][]byte) {
	z, _, ok := s.lookupZset(c, argv[1], true)
	if !ok {
		return
	}
	c.ArrayLen(len(argv) - 2)
	var buf [11]byte
	for _, m := range argv[2:] {
		var score float64
		found := false
		if z != nil {
			score, found = z.score(m)
		}
		if !found {
			c.Null()
			continue
		}
		c.Bulk(geohash.AppendStandard(buf[:0], score))
	}
}

// GEODIST key member1 member2 [unit]: the distance between two members,
// null when the key or either member is missing. O(log n).
func geodistCmd(s *Shard, c *Client, argv [][]byte) {
	toMeters := 1.0
	if len(argv) == 5 {
		var ok bool
		if toMeters, ok = geoUnit(c, argv[4]); !ok {
			return
		}
	} else if len(argv) > 5 {
		c.Error(errSyntax)
		return
	}
	z, _, ok := s.lookupZset(c, argv[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.Null()
		return
	}
	s1, ok1 := z.score(argv[2])
	s2, ok2 := z.score(argv[3])
	if !ok1 || !ok2 {
		c.Null()
		return
	}
	lon1, lat1 := geohash.DecodeScore(s1)
	lon2, lat2 := geohash.DecodeScore(s2)
	replyGeoDistance(c, geohash.Distance(lon1, lat1, lon2, lat2)/toMeters)
}

// ---- searches -------------------------------------------------------------

// The variants of the search command.
const (
	geoFromCoords  = 1 << iota // GEORADIUS: centre given as coordinates
	geoFromMember              // GEORADIUSBYMEMBER: centre is a member
	geoNoStore                 // the _RO forms: no STORE/STOREDIST
	geoSearch                  // GEOSEARCH syntax
	geoSearchStore             // GEOSEARCHSTORE: destination first, STOREDIST a flag
)

const (
	geoSortNone = iota
	geoSortAsc
	geoSortDesc
)

// geoPoint is a member found by a search; its name is buf[off:end] of
// the search's geoHits.
type geoPoint struct {
	off, end    int
	lon, lat    float64
	dist, score float64
}

// geoHits gathers a search's points, their names copied into one buffer.
type geoHits struct {
	pts []geoPoint
	buf []byte
}

func (h *geoHits) member(p *geoPoint) []byte { return h.buf[p.off:p.end] }

// scanCell adds the members of cell whose positions lie in sh, in score
// order, stopping once there are limit points (0: no limit). O(log n + k)
// for the k members in the cell (O(n) as a listpack).
func (h *geoHits) scanCell(z *zsetObj, cell geohash.Bits, sh *geohash.Shape, limit int) {
	lo, hi := cell.ScoreRange()
	it := z.iterScore(zset.Range{Min: float64(lo), Max: float64(hi), MaxEx: true}, false)
	for {
		m, score, ok := it.next()
		if !ok {
			return
		}
		lon, lat := geohash.DecodeScore(score)
		if dist, in := sh.Within(lon, lat); in {
			off := len(h.buf)
			h.buf = append(h.buf, m...)
			h.pts = append(h.pts, geoPoint{off: off, end: len(h.buf), lon: lon, lat: lat, dist: dist, score: score})
		}
		if limit > 0 && len(h.pts) >= limit {
			return
		}
	}
}

// scanCells scans the cells covering sh in Redis's order, skipping a
// cell equal to the one scanned just before it (huge radii make
// neighbours repeat).
func (h *geoHits) scanCells(z *zsetObj, sh *geohash.Shape, limit int) {
	cells, _ := geohash.CellsOf(sh)
	last := 0
	for i, cell := range cells {
		if cell.IsZero() {
			continue
		}
		if last != 0 && cell == cells[last] {
			continue
		}
		if limit > 0 && len(h.pts) >= limit {
			break
		}
		h.scanCell(z, cell, sh, limit)
		last = i
	}
}

// geoSearchGeneric is every search command (Redis's georadiusGeneric):
// the source key at argv[src], the variant in flags. It checks what Redis
// checks in Redis's order: the key's type, the centre and radius of the
// GEORADIUS forms, the options left to right (each failing at its first
// bad value), then the combinations. Cost: O(k + log n) per scanned cell
// for k members in it, plus O(r log r) to sort r results.
func geoSearchGeneric(s *Shard, c *Client, argv [][]byte, src int, flags int) {
	z, _, ok := s.lookupZset(c, argv[src], true)
	if !ok {
		return
	}
	var sh geohash.Shape
	var storeKey []byte
	storeDist := false
	base := 0
	switch {
	case flags&geoFromCoords != 0:
		base = 6
		if sh.Lon, sh.Lat, ok = geoLonLat(c, argv[2], argv[3]); !ok {
			return
		}
		if !geoRadiusArgs(c, argv[4], argv[5], &sh) {
			return
		}
	case flags&geoFromMember != 0 && z == nil:
		base = 5
	case flags&geoFromMember != 0:
		base = 5
		score, found := z.score(argv[2])
		if !found {
			c.Error(errGeoMember)
			return
		}
		sh.Lon, sh.Lat = geohash.DecodeScore(score)
		if !geoRadiusArgs(c, argv[3], argv[4], &sh) {
			return
		}
	default:
		base = 2
		if flags&geoSearchStore != 0 {
			base = 3
			storeKey = argv[1]
		}
	}

	withDist, withHash, withCoord := false, false, false
	fromMember, fromLoc, byRadius, byBox := false, false, false, false
	sort := geoSortNone
	anyOpt := false
	var count int64
	canStore := flags&geoNoStore == 0 && flags&geoSearch == 0
	search := flags&geoSearch != 0
	for i := base; i < len(argv); i++ {
		a := argv[i]
		left := len(argv) - 1 - i // arguments after a
		switch {
		case eqFold(a, "withdist"):
			withDist = true
		case eqFold(a, "withhash"):
			withHash = true
		case eqFold(a, "withcoord"):
			withCoord = true
		case eqFold(a, "any"):
			anyOpt = true
		case eqFold(a, "asc"):
			sort = geoSortAsc
		case eqFold(a, "desc"):
			sort = geoSortDesc
		case eqFold(a, "count") && left >= 1:
			n, ok := parseInt(argv[i+1])
			if !ok {
				c.Error(errNotInt)
				return
			}
			if n <= 0 {
				c.Error(errGeoCount)
				return
			}
			count = n
			i++
		case eqFold(a, "store") && left >= 1 && canStore:
			storeKey, storeDist = argv[i+1], false
			i++
		case eqFold(a, "storedist") && left >= 1 && canStore:
			storeKey, storeDist = argv[i+1], true
			i++
		case eqFold(a, "storedist") && flags&geoSearchStore != 0:
			storeDist = true
		case eqFold(a, "frommember") && left >= 1 && search && !fromLoc:
			if z != nil {
				score, found := z.score(argv[i+1])
				if !found {
					c.Error(errGeoMember)
					return
				}
				sh.Lon, sh.Lat = geohash.DecodeScore(score)
			}
			fromMember = true
			i++
		case eqFold(a, "fromlonlat") && left >= 2 && search && !fromMember:
			if sh.Lon, sh.Lat, ok = geoLonLat(c, argv[i+1], argv[i+2]); !ok {
				return
			}
			fromLoc = true
			i += 2
		case eqFold(a, "byradius") && left >= 2 && search && !byBox:
			if !geoRadiusArgs(c, argv[i+1], argv[i+2], &sh) {
				return
			}
			byRadius = true
			i += 2
		case eqFold(a, "bybox") && left >= 3 && search && !byRadius:
			if !geoBoxArgs(c, argv[i+1], argv[i+2], argv[i+3], &sh) {
				return
			}
			byBox = true
			i += 3
		default:
			c.Error(errSyntax)
			return
		}
	}

	if storeKey != nil && (withDist || withHash || withCoord) {
		if flags&geoSearchStore != 0 {
			c.Error(errGeoSearchWith)
		} else {
			c.Error(errGeoStoreWith)
		}
		return
	}
	if search && !fromMember && !fromLoc {
		c.Error("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + string(argv[0]))
		return
	}
	if search && !byRadius && !byBox {
		c.Error("ERR exactly one of BYRADIUS and BYBOX can be specified for " + string(argv[0]))
		return
	}
	if anyOpt && count == 0 {
		c.Error(errGeoAny)
		return
	}

	if z == nil {
		if storeKey == nil {
			c.EmptyArray()
			return
		}
		if s.deleteKey(storeKey) {
			s.notify(notifyGeneric, "del", storeKey)
		}
		c.Int(0)
		return
	}
	if count != 0 && sort == geoSortNone && !anyOpt {
		sort = geoSortAsc
	}

	var hits geoHits
	limit := 0
	if anyOpt {
		limit = int(min(count, int64(z.size())+1))
	}
	hits.scanCells(z, &sh, limit)
	if len(hits.pts) == 0 && storeKey == nil {
		c.EmptyArray()
		return
	}
	returned := len(hits.pts)
	if count != 0 && int64(returned) > count {
		returned = int(count)
	}
	switch sort {
	case geoSortAsc:
		slices.SortStableFunc(hits.pts, func(a, b geoPoint) int { return cmp.Compare(a.dist, b.dist) })
	case geoSortDesc:
		slices.SortStableFunc(hits.pts, func(a, b geoPoint) int { return cmp.Compare(b.dist, a.dist) })
	}
	pts := hits.pts[:returned]

	if storeKey == nil {
		opts := 0
		for _, on := range []bool{withDist, withHash, withCoord} {
			if on {
				opts++
			}
		}
		c.ArrayLen(len(pts))
		for i := range pts {
			p := &pts[i]
			if opts > 0 {
				c.ArrayLen(opts + 1)
			}
			c.Bulk(hits.member(p))
			if withDist {
				replyGeoDistance(c, p.dist/sh.Conversion)
			}
			if withHash {
				c.Int(int64(p.score))
			}
			if withCoord {
				c.ArrayLen(2)
				replyGeoCoord(c, p.lon)
				replyGeoCoord(c, p.lat)
			}
		}
		return
	}

	if len(pts) == 0 {
		if s.deleteKey(storeKey) {
			s.notify(notifyGeneric, "del", storeKey)
		}
		c.Int(0)
		return
	}
	maxLen := 0
	for i := range pts {
		maxLen = max(maxLen, pts[i].end-pts[i].off)
	}
	dst := newZsetSized(len(pts), maxLen, s.Config)
	for i := range pts {
		p := &pts[i]
		score := p.score
		if storeDist {
			score = p.dist / sh.Conversion
		}
		dst.add(hits.member(p), score, 0, s.Config)
	}
	s.storeZset(storeKey, dst)
	s.dirty += int64(len(pts)) - 1
	event := "georadiusstore"
	if search {
		event = "geosearchstore"
	}
	s.notify(notifyZSet, event, storeKey)
	c.Int(int64(len(pts)))
}

// geoRadiusArgs reads "radius unit" into sh as a circle.
func geoRadiusArgs(c *Client, radius, unit []byte, sh *geohash.Shape) bool {
	r, ok := geoLength(c, radius, errGeoRadius)
	if !ok {
		return false
	}
	if r < 0 {
		c.Error(errGeoRadiusNeg)
		return false
	}
	conv, ok := geoUnit(c, unit)
	if !ok {
		return false
	}
	sh.Box, sh.Radius, sh.Conversion = false, r, conv
	return true
}

// geoBoxArgs reads "width height unit" into sh as a box.
func geoBoxArgs(c *Client, width, height, unit []byte, sh *geohash.Shape) bool {
	w, ok := geoLength(c, width, errGeoWidth)
	if !ok {
		return false
	}
	h, ok := geoLength(c, height, errGeoHeight)
	if !ok {
		return false
	}
	if h < 0 || w < 0 {
		c.Error(errGeoBoxNeg)
		return false
	}
	conv, ok := geoUnit(c, unit)
	if !ok {
		return false
	}
	sh.Box, sh.Width, sh.Height, sh.Conversion = true, w, h, conv
	return true
}

// GEOSEARCH key FROMMEMBER member|FROMLONLAT lon lat BYRADIUS r unit|BYBOX
// w h unit [ASC|DESC] [COUNT n [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH].
func geosearchCmd(s *Shard, c *Client, argv [][]byte) {
	geoSearchGeneric(s, c, argv, 1, geoSearch)
}

// GEOSEARCHSTORE destination source ... [STOREDIST]: the search's members
// stored as a sorted set (scores their positions, or their distances with
// STOREDIST); the number stored.
func geosearchstoreCmd(s *Shard, c *Client, argv [][]byte) {
	geoSearchGeneric(s, c, argv, 2, geoSearch|geoSearchStore)
}

// GEORADIUS key lon lat radius unit [options] [STORE key] [STOREDIST key].
func georadiusCmd(s *Shard, c *Client, argv [][]byte) {
	geoSearchGeneric(s, c, argv, 1, geoFromCoords)
}

// GEORADIUS_RO: GEORADIUS without STORE and STOREDIST.
func georadiusROCmd(s *Shard, c *Client, argv [][]byte) {
	geoSearchGeneric(s, c, argv, 1, geoFromCoords|geoNoStore)
}

// GEORADIUSBYMEMBER key member radius unit [options] [STORE key]
// [STOREDIST key].
func georadiusbymemberCmd(s *Shard, c *Client, argv [][]byte) {
	geoSearchGeneric(s, c, argv, 1, geoFromMember)
}

// GEORADIUSBYMEMBER_RO: GEORADIUSBYMEMBER without STORE and STOREDIST.
func georadiusbymemberROCmd(s *Shard, c *Client, argv [][]byte) {
	geoSearchGeneric(s, c, argv, 1, geoFromMember|geoNoStore)
}

// ---- the command table ------------------------------------------------------

const (
	geoUnitSyntax     = "unit:(M | KM | FT | MI)"
	geoSearchArgs     = "from:(FROMMEMBER member | FROMLONLAT longitude_latitude:(longitude:double latitude:double)) by:(circle:(BYRADIUS radius:double " + geoUnitSyntax + ") | box:(BYBOX width:double height:double " + geoUnitSyntax + ")) order:[ASC | DESC] count:[COUNT count:integer [ANY]]"
	geoRadiusCompl    = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."
	geoSearchCompl    = "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape"
	geoUnitsHistory   = "Added support for uppercase unit names."
	geoAnyHistory     = "Added the `ANY` option for `COUNT`."
	geoRadiusWithOpts = " [WITHCOORD] [WITHDIST] [WITHHASH]"
)

var (
	geoReadSpec = []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}}
)

// geoRadiusSpecs are the key specs of GEORADIUS (from = 6) and
// GEORADIUSBYMEMBER (from = 5): the source, and the keys after STORE and
// STOREDIST.
func geoRadiusSpecs(from int) []KeySpec {
	return []KeySpec{
		{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1},
		{Flags: "OW UPDATE", Keyword: "STORE", StartFrom: from, LastKey: 0, Step: 1},
		{Flags: "OW UPDATE", Keyword: "STOREDIST", StartFrom: from, LastKey: 0, Step: 1},
	}
}

func init() {
	register(
		&Command{Name: "geoadd", Arity: -5,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@geo",
			Group: "geo", Since: "3.2.0",
			Summary:    "Add one or more geospatial items in the geospatial index represented using a sorted set",
			Complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
			Keys:       []KeySpec{{Flags: "RW UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"6.2.0", "Added the `CH`, `NX` and `XX` options."}},
			Syntax:     "key condition:[NX | XX]@6.2.0 [change:CH@6.2.0] (longitude:double latitude:double member)...",
			Proc:       geoaddCmd,
		},
		&Command{Name: "geodist", Arity: -4,
			Flags: FlagReadonly,
			ACL:   "@geo",
			Group: "geo", Since: "3.2.0",
			Summary:    "Returns the distance between two members of a geospatial index",
			Complexity: "O(log(N))",
			Keys:       geoReadSpec,
			Syntax:     "key member1 member2 unit:[M | KM | FT | MI]",
			Proc:       geodistCmd,
		},
		&Command{Name: "geohash", Arity: -2,
			Flags: FlagReadonly,
			ACL:   "@geo",
			Group: "geo", Since: "3.2.0",
			Summary:    "Returns members of a geospatial index as standard geohash strings",
			Complexity: "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
			Keys:       geoReadSpec,
			Syntax:     "key member...",
			Proc:       geohashCmd,
		},
		&Command{Name: "geopos", Arity: -2,
			Flags: FlagReadonly,
			ACL:   "@geo",
			Group: "geo", Since: "3.2.0",
			Summary:    "Returns longitude and latitude of members of a geospatial index",
			Complexity: "O(N) where N is the number of members requested.",
			Keys:       geoReadSpec,
			Syntax:     "key member...",
			Proc:       geoposCmd,
		},
		&Command{Name: "geosearch", Arity: -7,
			Flags: FlagReadonly,
			ACL:   "@geo",
			Group: "geo", Since: "6.2.0",
			Summary:    "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
			Complexity: geoSearchCompl,
			Keys:       geoReadSpec,
			History:    [][2]string{{"7.0.0", geoUnitsHistory}},
			Syntax:     "key " + geoSearchArgs + geoRadiusWithOpts,
			Proc:       geosearchCmd,
		},
		&Command{Name: "geosearchstore", Arity: -8,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@geo",
			Group: "geo", Since: "6.2.0",
			Summary:    "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
			Complexity: geoSearchCompl,
			Keys:       []KeySpec{{Flags: "OW UPDATE", Begin: 1, LastKey: 0, Step: 1}, {Flags: "RO ACCESS", Begin: 2, LastKey: 0, Step: 1}},
			History:    [][2]string{{"7.0.0", geoUnitsHistory}},
			Syntax:     "destination:key source:key " + geoSearchArgs + " [STOREDIST]",
			Proc:       geosearchstoreCmd,
		},
		&Command{Name: "georadius", Arity: -6,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@geo",
			Group: "geo", Since: "3.2.0",
			Summary:    "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
			Complexity: geoRadiusCompl,
			Keys:       geoRadiusSpecs(6),
			History:    [][2]string{{"6.2.0", geoAnyHistory}, {"7.0.0", geoUnitsHistory}},
			DocFlags:   []string{"deprecated"},
			Deprecated: "6.2.0",
			ReplacedBy: "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument",
			Syntax:     "key longitude:double latitude:double radius:double " + geoUnitSyntax + geoRadiusWithOpts + " count:[COUNT count:integer [ANY@6.2.0]] order:[ASC | DESC] [STORE key#1] [STOREDIST key#2]",
			Proc:       georadiusCmd,
		},
		&Command{Name: "georadius_ro", Arity: -6,
			Flags: FlagReadonly,
			ACL:   "@geo",
			Group: "geo", Since: "3.2.10",
			Summary:    "A read-only variant for GEORADIUS",
			Complexity: geoRadiusCompl,
			Keys:       geoReadSpec,
			History:    [][2]string{{"6.2.0", geoAnyHistory}},
			DocFlags:   []string{"deprecated"},
			Deprecated: "6.2.0",
			ReplacedBy: "`GEOSEARCH` with the `BYRADIUS` argument",
			Syntax:     "key longitude:double latitude:double radius:double " + geoUnitSyntax + geoRadiusWithOpts + " count:[COUNT count:integer [ANY@6.2.0]] order:[ASC | DESC]",
			Proc:       georadiusROCmd,
		},
		&Command{Name: "georadiusbymember", Arity: -5,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@geo",
			Group: "geo", Since: "3.2.0",
			Summary:    "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
			Complexity: geoRadiusCompl,
			Keys:       geoRadiusSpecs(5),
			History:    [][2]string{{"7.0.0", geoUnitsHistory}},
			DocFlags:   []string{"deprecated"},
			Deprecated: "6.2.0",
			ReplacedBy: "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments",
			Syntax:     "key member radius:double " + geoUnitSyntax + geoRadiusWithOpts + " count:[COUNT count:integer [ANY]] order:[ASC | DESC] [STORE key#1] [STOREDIST key#2]",
			Proc:       georadiusbymemberCmd,
		},
		&Command{Name: "georadiusbymember_ro", Arity: -5,
			Flags: FlagReadonly,
			ACL:   "@geo",
			Group: "geo", Since: "3.2.10",
			Summary:    "A read-only variant for GEORADIUSBYMEMBER",
			Complexity: geoRadiusCompl,
			Keys:       geoReadSpec,
			DocFlags:   []string{"deprecated"},
			Deprecated: "6.2.0",
			ReplacedBy: "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments",
			Syntax:     "key member radius:double " + geoUnitSyntax + geoRadiusWithOpts + " count:[COUNT count:integer [ANY]] order:[ASC | DESC]",
			Proc:       georadiusbymemberROCmd,
		},
	)
}
