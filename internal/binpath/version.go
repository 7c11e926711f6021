package binpath

// versionLess compares two paths so that embedded numbers compare by value:
// "/usr/lib/postgresql/9/bin" sorts before "/usr/lib/postgresql/15/bin".
func versionLess(a, b string) bool {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			na, ra := leadingNumber(a)
			nb, rb := leadingNumber(b)
			if na != nb {
				return numberLess(na, nb)
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// leadingNumber splits s into its leading run of digits (without leading
// zeros) and the rest.
func leadingNumber(s string) (num, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	num = s[:i]
	for len(num) > 1 && num[0] == '0' {
		num = num[1:]
	}
	return num, s[i:]
}

// numberLess compares two digit strings without leading zeros by value.
func numberLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
