package engine

import (
	"math/big"
	"math/bits"
)

// C's long double on x86-64, as Redis computes INCRBYFLOAT (and
// HINCRBYFLOAT) with it: the x87 80-bit extended format, a 64-bit
// significand with an explicit leading bit and a 15-bit exponent. Values
// are kept in big.Float with 64 bits of precision, whose operations round
// to nearest-even exactly as the x87 unit does in its default (extended)
// precision; what big.Float lacks is the format's exponent range, which
// the functions here enforce: finite values are below 2^16384, and below
// 2^-16382 they are denormal, multiples of 2^-16445.
//
// None of these functions is on a hot path: each allocates a few small
// big.Float/big.Int values, and parsing or printing a value near the ends
// of the exponent range costs up to a few thousand-digit conversions.
const (
	ldMantBits = 64
	ldMaxExp   = 16384  // finite values are below 2^ldMaxExp
	ldQuantum  = -16445 // denormals are multiples of 2^ldQuantum

	// maxLongDoubleChars is Redis's MAX_LONG_DOUBLE_CHARS: string2ld
	// refuses inputs of this length or more.
	maxLongDoubleChars = 5 * 1024

	// Decimal magnitude bounds: a value of at least 10^ldMaxDec overflows;
	// one below 10^-ldMinDec rounds to zero (2^-16446 is about 1.8e-4951).
	ldMaxDec = 4933
	ldMinDec = 4951

	// maxExpDigitsValue caps exponents while they are read; anything
	// beyond it is out of range whatever the digits.
	maxExpDigitsValue = 1 << 30
)

// parseLongDouble reads b as Redis's string2ld does: strtold in the C
// locale over the whole of b, refusing a leading space, trailing bytes,
// NaN, and results that overflow or underflow to zero (ERANGE). It takes
// decimal and hexadecimal ("0x1.8p3") floats with an optional sign, and
// "inf"/"infinity" in any case. The result is the correctly rounded
// long double, possibly ±Inf (only from the words); nil when refused.
func parseLongDouble(b []byte) *big.Float {
	if len(b) == 0 || len(b) >= maxLongDoubleChars {
		return nil
	}
	i, neg := 0, false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		i++
	}
	rest := b[i:]
	if eqFold(rest, "inf") || eqFold(rest, "infinity") {
		return new(big.Float).SetInf(neg)
	}
	if len(rest) >= 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X') {
		return parseHexLongDouble(neg, rest[2:])
	}
	return parseDecLongDouble(neg, rest)
}

// readMantissa reads digits of the given base with at most one '.', up to
// the first byte that is neither; it returns the digits without the dot,
// how many of them follow the dot, and the number of bytes read.
func readMantissa(b []byte, hex bool) (digits []byte, frac, n int) {
	dot := -1
	digits = make([]byte, 0, len(b))
	for n < len(b) {
		ch := b[n]
		switch {
		case ch == '.' && dot < 0:
			dot = len(digits)
		case isDigitIn(ch, hex):
			digits = append(digits, ch)
		default:
			goto done
		}
		n++
	}
done:
	if dot >= 0 {
		frac = len(digits) - dot
	}
	return digits, frac, n
}

func isDigitIn(ch byte, hex bool) bool {
	if '0' <= ch && ch <= '9' {
		return true
	}
	return hex && ('a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F')
}

// readExponent reads the rest of b as an exponent: an optional sign and at
// least one decimal digit, all of b. The value saturates at
// ±maxExpDigitsValue.
func readExponent(b []byte) (int, bool) {
	i, neg := 0, false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	e := 0
	for ; i < len(b); i++ {
		if b[i] < '0' || b[i] > '9' {
			return 0, false
		}
		if e < maxExpDigitsValue {
			e = e*10 + int(b[i]-'0')
		}
	}
	if neg {
		e = -e
	}
	return e, true
}

func signedZero(neg bool) *big.Float {
	z := new(big.Float).SetPrec(ldMantBits)
	if neg {
		z.Neg(z)
	}
	return z
}

func parseDecLongDouble(neg bool, b []byte) *big.Float {
	digits, frac, n := readMantissa(b, false)
	if len(digits) == 0 {
		return nil
	}
	exp := 0
	if n < len(b) {
		if b[n] != 'e' && b[n] != 'E' {
			return nil
		}
		var ok bool
		if exp, ok = readExponent(b[n+1:]); !ok {
			return nil
		}
	}
	// value = digits × 10^e10, digits without leading or trailing zeros.
	e10 := exp - frac
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
	}
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		e10++
	}
	if len(digits) == 0 {
		return signedZero(neg)
	}
	mag := len(digits) + e10 // 10^(mag-1) <= value < 10^mag
	if mag-1 >= ldMaxDec || mag <= -ldMinDec {
		return nil // ERANGE: overflow, or underflow to zero
	}
	d, _ := new(big.Int).SetString(string(digits), 10)
	if e10 >= 0 {
		d.Mul(d, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(e10)), nil))
		return ldRound(neg, d, 0, false)
	}
	// value = d / 10^k: take enough quotient bits that the rounding
	// position is at least three bits down, the remainder as sticky bit.
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-e10)), nil)
	shift := max(ldMantBits+3+den.BitLen()-d.BitLen(), 0)
	d.Lsh(d, uint(shift))
	rem := new(big.Int)
	d.QuoRem(d, den, rem)
	return ldRound(neg, d, -shift, rem.Sign() != 0)
}

func parseHexLongDouble(neg bool, b []byte) *big.Float {
	digits, frac, n := readMantissa(b, true)
	if len(digits) == 0 {
		return nil
	}
	exp := 0
	if n < len(b) {
		if b[n] != 'p' && b[n] != 'P' {
			return nil
		}
		var ok bool
		if exp, ok = readExponent(b[n+1:]); !ok {
			return nil
		}
	}
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
	}
	if len(digits) == 0 {
		return signedZero(neg)
	}
	d, _ := new(big.Int).SetString(string(digits), 16)
	e2 := exp - 4*frac // value = d × 2^e2
	if top := d.BitLen() + e2; top > ldMaxExp+1 || top < ldQuantum-1 {
		return nil
	}
	return ldRound(neg, d, e2, false)
}

// ldRound rounds (n + f) × 2^e2 to the nearest long double, ties to even,
// where 0 <= f < 1 and sticky tells whether f > 0. When inexact, n must
// carry at least two bits below the rounding position (the callers give it
// at least 67 bits). It returns nil when the result overflows or
// underflows to zero, as strtold then reports ERANGE.
func ldRound(neg bool, n *big.Int, e2 int, sticky bool) *big.Float {
	l := n.BitLen()
	if l == 0 {
		if sticky {
			return nil
		}
		return signedZero(neg)
	}
	qe := max(e2+l-ldMantBits, ldQuantum) // exponent of the last kept bit
	drop := qe - e2
	var m uint64
	if drop <= 0 {
		m = n.Uint64() << uint(-drop)
	} else {
		m = new(big.Int).Rsh(n, uint(drop)).Uint64()
		half := n.Bit(drop-1) == 1
		below := sticky || n.TrailingZeroBits() < uint(drop-1)
		if half && (below || m&1 == 1) {
			m++
			if m == 0 { // carried out of 64 bits
				m = 1 << 63
				qe++
			}
		}
	}
	if m == 0 {
		return nil
	}
	if bits.Len64(m)+qe > ldMaxExp {
		return nil
	}
	z := new(big.Float).SetPrec(ldMantBits).SetUint64(m)
	z.SetMantExp(z, qe)
	if neg {
		z.Neg(z)
	}
	return z
}

// addLongDouble adds two long doubles as the x87 unit does. ok is false
// when the sum is NaN or infinite (either operand infinite, or overflow).
// The sum of two long doubles that lands in the denormal range is exact
// (both are multiples of 2^-16445), so rounding to 64 bits with an
// unbounded exponent, as big.Float does, matches the hardware there too.
func addLongDouble(a, b *big.Float) (sum *big.Float, ok bool) {
	if a.IsInf() || b.IsInf() {
		return nil, false
	}
	z := new(big.Float).SetPrec(ldMantBits).SetMode(big.ToNearestEven).Add(a, b)
	if z.Sign() != 0 && z.MantExp(nil) > ldMaxExp {
		return nil, false
	}
	return z, true
}

// appendLongDoubleHuman formats x as Redis's ld2string in LD_STR_HUMAN
// mode: printf("%.17Lf"), then trailing zeros and a trailing dot removed,
// and "-0" written "0"; infinities as "inf" and "-inf".
func appendLongDoubleHuman(dst []byte, x *big.Float) []byte {
	if x.IsInf() {
		if x.Signbit() {
			return append(dst, "-inf"...)
		}
		return append(dst, "inf"...)
	}
	// Below 2^-58 (< 5e-18) the value prints as 0.000...0 with 17 decimals;
	// skip the exact conversion of what may be thousands of digits.
	if x.Sign() == 0 || x.MantExp(nil) <= -58 {
		return append(dst, '0')
	}
	start := len(dst)
	dst = x.Append(dst, 'f', 17)
	return trimDecimals(dst, start)
}

// trimDecimals cuts the trailing zeros, and then the point, of the number
// with decimals written at dst[start:], and writes -0 as 0: the end of
// Redis's human-readable long double format.
func trimDecimals(dst []byte, start int) []byte {
	l := len(dst)
	for dst[l-1] == '0' {
		l--
	}
	if dst[l-1] == '.' {
		l--
	}
	dst = dst[:l]
	if l-start == 2 && dst[start] == '-' && dst[start+1] == '0' {
		dst = append(dst[:start], '0')
	}
	return dst
}
