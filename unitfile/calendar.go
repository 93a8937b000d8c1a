package unitfile

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// CalendarSpec is one OnCalendar= expression, systemd.time(7) "CALENDAR
// EVENTS": "Weekdays Year-Month-Day Hour:Minute:Second [Timezone]". Each
// date and time component is a list of chunks; a nil list is "*" (any).
type CalendarSpec struct {
	Original string
	// Weekdays has bit time.Weekday set for each allowed day; 0 is any.
	Weekdays uint8
	Year     []CalChunk
	Month    []CalChunk
	// Day counts from the end of the month when EndOfMonth ("~": 1 is
	// the last day).
	Day        []CalChunk
	EndOfMonth bool
	Hour       []CalChunk
	Minute     []CalChunk
	Second     []CalChunk // in microseconds
	// Location is the zone named after the spec ("UTC" or an IANA name);
	// nil: the zone of the time given to Next (local time).
	Location *time.Location
}

// CalChunk matches Start, Start+Step, ... up to End. A single value has
// End == Start.
type CalChunk struct{ Start, End, Step int }

func (c CalChunk) match(v int) bool {
	return v >= c.Start && v <= c.End && (v-c.Start)%c.Step == 0
}

// next is the smallest matching value >= v, or false.
func (c CalChunk) next(v int) (int, bool) {
	if v <= c.Start {
		return c.Start, c.Start <= c.End
	}
	n := c.Start + (v-c.Start+c.Step-1)/c.Step*c.Step
	return n, n <= c.End
}

func (c *CalendarSpec) String() string { return c.Original }

// MarshalText keeps the spec as written (verify --json, the control
// API); UnmarshalText parses it again.
func (c *CalendarSpec) MarshalText() ([]byte, error) { return []byte(c.Original), nil }

func (c *CalendarSpec) UnmarshalText(b []byte) error {
	p, err := ParseCalendar(string(b))
	if err != nil {
		return err
	}
	*c = *p
	return nil
}

// calShorthands are systemd.time(7)'s special expressions.
var calShorthands = map[string]string{
	"minutely":     "*-*-* *:*:00",
	"hourly":       "*-*-* *:00:00",
	"daily":        "*-*-* 00:00:00",
	"monthly":      "*-*-01 00:00:00",
	"weekly":       "Mon *-*-* 00:00:00",
	"yearly":       "*-01-01 00:00:00",
	"annually":     "*-01-01 00:00:00",
	"quarterly":    "*-01,04,07,10-01 00:00:00",
	"semiannually": "*-01,07-01 00:00:00",
}

var weekdayNames = map[string]time.Weekday{
	"mon": time.Monday, "monday": time.Monday, "tue": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday, "thu": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday, "sat": time.Saturday, "saturday": time.Saturday,
	"sun": time.Sunday, "sunday": time.Sunday,
}

// maxCalYear is the last year a calendar spec may name, as systemd
// (later ones are refused); it also bounds the search for the next elapse.
const maxCalYear = 2199

// ParseCalendar parses a calendar event expression. It never panics; a
// bad expression is an error naming the part that is wrong.
func ParseCalendar(s string) (*CalendarSpec, error) {
	c := &CalendarSpec{Original: s}
	words := strings.Fields(s)
	if len(words) == 0 {
		return nil, fmt.Errorf("empty calendar specification")
	}
	// A trailing zone: "UTC", an IANA name with a '/', or one without
	// ("CET", "EST5EDT", "Japan") that the zone database knows.
	if n := len(words); n > 1 {
		last := words[n-1]
		plain := !strings.ContainsAny(last, ":-*~,.")
		switch {
		case last == "UTC":
			c.Location = time.UTC
			words = words[:n-1]
		case strings.Contains(last, "/") && plain:
			loc, err := time.LoadLocation(last)
			if err != nil {
				return nil, fmt.Errorf("unknown timezone %q", last)
			}
			c.Location = loc
			words = words[:n-1]
		case plain && unicode.IsLetter(rune(last[0])) && calShorthands[last] == "":
			if _, err := parseWeekdays(last); err != nil {
				if loc, err := time.LoadLocation(last); err == nil {
					c.Location = loc
					words = words[:n-1]
				}
			}
		}
	}
	if len(words) == 1 {
		if full, ok := calShorthands[words[0]]; ok {
			words = strings.Fields(full)
		}
	}
	// Weekdays come first and start with a letter; "Wed, 17:48" has a
	// comma before the space.
	if w := words[0]; w[0] >= 'A' && w[0] <= 'Z' || w[0] >= 'a' && w[0] <= 'z' {
		mask, err := parseWeekdays(strings.TrimSuffix(w, ","))
		if err != nil {
			return nil, err
		}
		c.Weekdays = mask
		words = words[1:]
	}
	var date, clock string
	switch len(words) {
	case 0:
	case 1:
		if strings.Contains(words[0], ":") {
			clock = words[0]
		} else {
			date = words[0]
		}
	case 2:
		date, clock = words[0], words[1]
	default:
		return nil, fmt.Errorf("too many words in calendar specification")
	}
	if date != "" {
		if err := c.parseDate(date); err != nil {
			return nil, err
		}
	}
	if clock == "" {
		clock = "00:00:00"
	}
	if err := c.parseTime(clock); err != nil {
		return nil, err
	}
	return c, nil
}

func parseWeekdays(s string) (uint8, error) {
	var mask uint8
	for _, item := range strings.Split(s, ",") {
		from, to, isRange := strings.Cut(item, "..")
		a, ok := weekdayNames[strings.ToLower(from)]
		if !ok {
			return 0, fmt.Errorf("invalid weekday %q", from)
		}
		b := a
		if isRange {
			if b, ok = weekdayNames[strings.ToLower(to)]; !ok {
				return 0, fmt.Errorf("invalid weekday %q", to)
			}
		}
		// Ranges run Monday..Sunday, as in systemd.
		ia, ib := (int(a)+6)%7, (int(b)+6)%7
		if ia > ib {
			return 0, fmt.Errorf("invalid weekday range %q", item)
		}
		for i := ia; i <= ib; i++ {
			mask |= 1 << ((i + 1) % 7)
		}
	}
	return mask, nil
}

func (c *CalendarSpec) parseDate(s string) error {
	var parts []string
	if head, day, ok := strings.Cut(s, "~"); ok {
		c.EndOfMonth = true
		parts = append(strings.Split(head, "-"), day)
	} else {
		parts = strings.Split(s, "-")
	}
	if len(parts) == 2 {
		parts = append([]string{"*"}, parts...)
	}
	if len(parts) != 3 {
		return fmt.Errorf("invalid date %q", s)
	}
	var err error
	if c.Year, err = parseCalComponent(parts[0], 1970, maxCalYear, false, true); err != nil {
		return fmt.Errorf("invalid year in %q: %w", s, err)
	}
	if c.Month, err = parseCalComponent(parts[1], 1, 12, false, false); err != nil {
		return fmt.Errorf("invalid month in %q: %w", s, err)
	}
	if c.Day, err = parseCalComponent(parts[2], 1, 31, false, false); err != nil {
		return fmt.Errorf("invalid day in %q: %w", s, err)
	}
	if c.EndOfMonth && strings.Contains(parts[2], "..") {
		// "~K..L" is refused by systemd too.
		return fmt.Errorf("invalid day in %q: no ranges after '~'", s)
	}
	return nil
}

func (c *CalendarSpec) parseTime(s string) error {
	parts := strings.Split(s, ":")
	if len(parts) == 2 {
		parts = append(parts, "00")
	}
	if len(parts) != 3 {
		return fmt.Errorf("invalid time %q", s)
	}
	var err error
	if c.Hour, err = parseCalComponent(parts[0], 0, 23, false, false); err != nil {
		return fmt.Errorf("invalid hour in %q: %w", s, err)
	}
	if c.Minute, err = parseCalComponent(parts[1], 0, 59, false, false); err != nil {
		return fmt.Errorf("invalid minute in %q: %w", s, err)
	}
	if c.Second, err = parseCalComponent(parts[2], 0, 59_999_999, true, false); err != nil {
		return fmt.Errorf("invalid second in %q: %w", s, err)
	}
	return nil
}

// parseCalComponent parses "*", or a comma list of "V", "V/R", "A..B",
// "A..B/R" ("*/R" is refused, as systemd refuses it). micro: values are seconds with up to 6 decimals, in
// microseconds. year: one- and two-digit values are 2000-2069 and
// 1970-1999 (systemd's rule).
func parseCalComponent(s string, lo, hi int, micro, year bool) ([]CalChunk, error) {
	if s == "*" {
		return nil, nil
	}
	value := func(v string) (int, error) {
		n, err := parseCalNumber(v, micro)
		if err != nil {
			return 0, err
		}
		if year && len(v) <= 2 {
			if n < 70 {
				n += 2000
			} else {
				n += 1900
			}
		}
		if n < lo || n > hi {
			return 0, fmt.Errorf("value %s out of range", v)
		}
		return n, nil
	}
	var out []CalChunk
	for _, item := range strings.Split(s, ",") {
		body, rep, hasRep := strings.Cut(item, "/")
		ch := CalChunk{Step: 1}
		if micro {
			ch.Step = 1_000_000 // a range of seconds steps by whole seconds
		}
		from, to, isRange := strings.Cut(body, "..")
		var err error
		if ch.Start, err = value(from); err != nil {
			return nil, err
		}
		ch.End = ch.Start
		if isRange {
			if ch.End, err = value(to); err != nil {
				return nil, err
			}
			if ch.End < ch.Start {
				return nil, fmt.Errorf("range %s is backwards", body)
			}
		}
		if hasRep {
			r, err := parseCalNumber(rep, micro)
			if err != nil || r <= 0 {
				return nil, fmt.Errorf("invalid repetition %q", rep)
			}
			ch.Step = r
			if !isRange {
				ch.End = hi
			}
		}
		out = append(out, ch)
	}
	return out, nil
}

// parseCalNumber reads a decimal; micro allows a fraction (rounded to
// microseconds, as systemd does) and returns microseconds.
func parseCalNumber(s string, micro bool) (int, error) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(whole) > 9 || strings.Trim(whole, "0123456789") != "" || hasFrac && !micro {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	n, _ := strconv.Atoi(whole)
	if !micro {
		return n, nil
	}
	n *= 1_000_000
	if hasFrac {
		if frac == "" || len(frac) > 18 || strings.Trim(frac, "0123456789") != "" {
			return 0, fmt.Errorf("invalid number %q", s)
		}
		f := 0
		for i := 0; i < 6; i++ {
			f *= 10
			if i < len(frac) {
				f += int(frac[i] - '0')
			}
		}
		if len(frac) > 6 && frac[6] >= '5' {
			f++
		}
		n += f
	}
	return n, nil
}

// nextIn is the smallest value >= v that list allows, at most hi.
func nextIn(list []CalChunk, v, hi int) (int, bool) {
	if list == nil {
		return v, v <= hi
	}
	best, ok := 0, false
	for _, c := range list {
		if n, found := c.next(v); found && n <= hi && (!ok || n < best) {
			best, ok = n, true
		}
	}
	return best, ok
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (c *CalendarSpec) dayMatches(y int, m time.Month, d, dim int) bool {
	if c.Weekdays != 0 && c.Weekdays&(1<<time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday()) == 0 {
		return false
	}
	if c.Day == nil {
		return true
	}
	if !c.EndOfMonth {
		for _, ch := range c.Day {
			if ch.match(d) {
				return true
			}
		}
		return false
	}
	// "~K/R": the K-th last day and every R days after it, to the end.
	k := dim + 1 - d
	for _, ch := range c.Day {
		if k == ch.Start || ch.End != ch.Start && k < ch.Start && (ch.Start-k)%ch.Step == 0 {
			return true
		}
	}
	return false
}

// Next is the first time strictly after after that the spec matches, in
// the spec's zone, or in after's zone when the spec names none. ok is false
// when there is none (a date in the past, an impossible date). Pure: no
// clock is read. A wall time that does not exist in the zone (a DST gap)
// is skipped.
func (c *CalendarSpec) Next(after time.Time) (time.Time, bool) {
	loc := c.Location
	if loc == nil {
		loc = after.Location()
	}
	t := after.In(loc).Truncate(time.Microsecond).Add(time.Microsecond)
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	sec := s*1_000_000 + t.Nanosecond()/1000
	// Each reset sets the smaller fields to their first value.
	nextYear := func() { y, mo, d, h, mi, sec = y+1, 1, 1, 0, 0, 0 }
	nextMonth := func() {
		if mo == 12 {
			nextYear()
			return
		}
		mo, d, h, mi, sec = mo+1, 1, 0, 0, 0
	}
	nextDay := func() {
		if d >= daysIn(y, mo) {
			nextMonth()
			return
		}
		d, h, mi, sec = d+1, 0, 0, 0
	}
	nextHour := func() {
		if h == 23 {
			nextDay()
			return
		}
		h, mi, sec = h+1, 0, 0
	}
	nextMinute := func() {
		if mi == 59 {
			nextHour()
			return
		}
		mi, sec = mi+1, 0
	}
	for y <= maxCalYear {
		ny, ok := nextIn(c.Year, y, maxCalYear)
		if !ok {
			break
		}
		if ny != y {
			y, mo, d, h, mi, sec = ny, 1, 1, 0, 0, 0
		}
		nm, ok := nextIn(c.Month, int(mo), 12)
		if !ok {
			nextYear()
			continue
		}
		if time.Month(nm) != mo {
			mo, d, h, mi, sec = time.Month(nm), 1, 0, 0, 0
		}
		dim := daysIn(y, mo)
		nd := d
		for nd <= dim && !c.dayMatches(y, mo, nd, dim) {
			nd++
		}
		if nd > dim {
			nextMonth()
			continue
		}
		if nd != d {
			d, h, mi, sec = nd, 0, 0, 0
		}
		nh, ok := nextIn(c.Hour, h, 23)
		if !ok {
			nextDay()
			continue
		}
		if nh != h {
			h, mi, sec = nh, 0, 0
		}
		nmi, ok := nextIn(c.Minute, mi, 59)
		if !ok {
			nextHour()
			continue
		}
		if nmi != mi {
			mi, sec = nmi, 0
		}
		ns, ok := nextIn(c.Second, sec, 59_999_999)
		if !ok {
			nextMinute()
			continue
		}
		sec = ns
		r := time.Date(y, mo, d, h, mi, sec/1_000_000, sec%1_000_000*1000, loc)
		ry, rmo, rd := r.Date()
		rh, rmi, _ := r.Clock()
		if r.After(after) && ry == y && rmo == mo && rd == d && rh == h && rmi == mi {
			return r, true
		}
		// Not a wall time of this zone, or not after after: try the
		// next minute.
		nextMinute()
	}
	return time.Time{}, false
}
