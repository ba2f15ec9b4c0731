package engine

// globMatch reports whether str matches the glob-style pattern as Redis's
// stringmatchlen does (KEYS, SCAN MATCH, CONFIG GET, PUBSUB CHANNELS): '*',
// '?', '[...]' classes with '^' negation and 'a-z' ranges, '\' escapes.
// Byte values compare as C's signed char does on x86, as Redis does there.
//
// Cost: a '*' tries each suffix once, and a failed suffix stops all longer
// tries (Redis's skipLongerMatches), so the work is O(len(pattern) *
// len(str)); nesting is capped at 1000 stars, as Redis caps it.
func globMatch(pattern, str []byte, nocase bool) bool {
	skip := false
	return globMatchAt(pattern, str, nocase, &skip, 0)
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 32
	}
	return c
}

func globMatchAt(p, s []byte, nocase bool, skipLonger *bool, nesting int) bool {
	if nesting > 1000 {
		return false
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if globMatchAt(p[1:], s, nocase, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			*skipLonger = true
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for {
				if len(p) >= 2 && p[0] == '\\' {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if len(p) == 0 {
					// An unclosed class ends with the pattern; step back so
					// the common advance below lands on the end.
					p = p[:0]
					break
				} else if p[0] == ']' {
					break
				} else if len(p) >= 3 && p[1] == '-' {
					start, end, c := int(int8(p[0])), int(int8(p[2])), int(int8(s[0]))
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = int(int8(lowerByte(byte(start)))), int(int8(lowerByte(byte(end)))), int(int8(lowerByte(byte(c))))
					}
					p = p[2:]
					if c >= start && c <= end {
						match = true
					}
				} else if p[0] == s[0] || (nocase && lowerByte(p[0]) == lowerByte(s[0])) {
					match = true
				}
				p = p[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
			if len(p) == 0 {
				// The class ran to the end of the pattern.
				goto advanced
			}
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if p[0] != s[0] && !(nocase && lowerByte(p[0]) == lowerByte(s[0])) {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
	advanced:
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}
