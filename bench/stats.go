package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Summary of a sample in milliseconds (or any unit): nearest-rank percentiles.
type Summary struct {
	N                int
	Median, P10, P90 float64
	Min, Max         float64
}

func summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{Median: math.NaN(), P10: math.NaN(), P90: math.NaN()}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return Summary{N: len(s), Median: rank(0.5), P10: rank(0.1), P90: rank(0.9), Min: s[0], Max: s[len(s)-1]}
}

func (s Summary) String() string {
	if s.N == 0 {
		return "—"
	}
	return fmt.Sprintf("%s (%s–%s)", ms(s.Median), ms(s.P10), ms(s.P90))
}

func ms(x float64) string {
	switch {
	case math.IsNaN(x):
		return "—"
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}

// table renders a Markdown table.
func table(head []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(head, " | ") + " |\n|")
	for range head {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	return b.String()
}
