package reactor

import (
	"math"
	"testing"
	"time"
)

func TestEpollTimeout(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want int
	}{
		{-1, -1}, {0, 0}, {time.Microsecond, 1}, {1500 * time.Microsecond, 2},
		{26 * 24 * time.Hour, math.MaxInt32}, // a monthly timer: must not wrap negative
		{math.MaxInt64, math.MaxInt32},
	} {
		if got := epollTimeout(c.d); got != c.want {
			t.Errorf("epollTimeout(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}
