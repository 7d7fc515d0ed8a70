package query

import "strconv"

// ParsePaging parses $top and $skip (spec §7.6): non-negative decimal
// integers (digits only, no sign). An empty $top means DefaultTop, an empty
// $skip 0; $top above MaxTop is an error; $skip is unbounded (up to the
// largest int). Errors are *errs.Error with Reason "invalid_query_option",
// Target "$top" or "$skip" and Pos the offset of the first bad byte.
func ParsePaging(top, skip string) (limit, offset int, err error) {
	limit, offset = DefaultTop, 0
	if top != "" {
		if limit, err = parseCount(top, "$top", MaxTop); err != nil {
			return 0, 0, err
		}
	}
	if skip != "" {
		if offset, err = parseCount(skip, "$skip", -1); err != nil {
			return 0, 0, err
		}
	}
	return limit, offset, nil
}

// parseCount parses a non-negative integer no larger than max (max < 0: no
// bound).
func parseCount(s, option string, max int) (int, error) {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, syntaxError(ReasonQueryOption, option, "", i, "%s must be a non-negative integer", option)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, syntaxError(ReasonQueryOption, option, "", 0, "%s is too large", option)
	}
	if max >= 0 && n > max {
		return 0, syntaxError(ReasonQueryOption, option, "", 0, "%s must be at most %d", option, max)
	}
	return n, nil
}
