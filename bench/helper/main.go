// Command helper is the tiny service program the benchmark units run.
//
//	helper notify          send READY=1 to $NOTIFY_SOCKET, then sleep until killed
//	helper lsock           answer one byte per connection on the socket passed as fd 3 (LISTEN_FDS)
//	helper flood RATE FILE write RATE lines/s to stdout; every 500 ms record the lines
//	                       written, the slowest write() and the fullest the pipe was (FIONREAD) in FILE
//	helper exec PATH ARG... exec PATH at once (the spawn-cost suite's minimal Go program)
//	helper up FIFO NAME MODE  the peers suite's service: signal readiness as MODE says
//	                       (notify: READY=1 to $NOTIFY_SOCKET; s6notify: a newline to fd 3, s6's
//	                       notification-fd), then write "NAME PID\n" to FIFO (one atomic write),
//	                       then exit (oneshot) or sleep until SIGTERM (simple, notify, s6notify)
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: helper notify|lsock|flood RATE FILE")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "exec":
		if len(os.Args) < 3 {
			os.Exit(2)
		}
		err := syscall.Exec(os.Args[2], os.Args[3:], os.Environ())
		fmt.Fprintln(os.Stderr, err)
		os.Exit(203)
	case "notify":
		notify()
	case "lsock":
		lsock()
	case "up":
		if len(os.Args) != 5 {
			os.Exit(2)
		}
		up(os.Args[2], os.Args[3], os.Args[4])
	case "flood":
		if len(os.Args) != 4 {
			os.Exit(2)
		}
		rate, _ := strconv.Atoi(os.Args[2])
		flood(rate, os.Args[3])
	default:
		os.Exit(2)
	}
}

func sleepForever() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
	os.Exit(0)
}

func up(fifo, name, mode string) {
	switch mode {
	case "notify":
		sendReady()
	case "s6notify":
		f := os.NewFile(3, "notification-fd")
		if _, err := f.Write([]byte("\n")); err != nil {
			fmt.Fprintln(os.Stderr, "notification-fd:", err)
			os.Exit(1)
		}
		f.Close()
	case "simple", "oneshot":
	default:
		os.Exit(2)
	}
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := f.Write([]byte(name + " " + strconv.Itoa(os.Getpid()) + "\n")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	f.Close()
	if mode == "oneshot" {
		os.Exit(0)
	}
	sleepForever()
}

func notify() {
	sendReady()
	sleepForever()
}

func sendReady() {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		fmt.Fprintln(os.Stderr, "NOTIFY_SOCKET not set")
		os.Exit(1)
	}
	if path[0] == '@' {
		path = "\x00" + path[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := c.Write([]byte("READY=1")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c.Close()
}

func lsock() {
	n, _ := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if n < 1 {
		fmt.Fprintln(os.Stderr, "no LISTEN_FDS")
		os.Exit(1)
	}
	l, err := net.FileListener(os.NewFile(3, "listen"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				os.Exit(1)
			}
			c.Write([]byte{'x'})
			c.Close()
		}
	}()
	sleepForever()
}

func flood(rate int, statsFile string) {
	const tick = time.Millisecond
	per := rate / 1000
	if per < 1 {
		per = 1
	}
	line := []byte("flood: the quick brown fox jumps over the lazy dog 0123456789\n")
	buf := make([]byte, 0, per*len(line))
	for i := 0; i < per; i++ {
		buf = append(buf, line...)
	}
	var lines int64
	var maxWrite time.Duration
	maxFill := 0
	start := time.Now()
	lastStats := start
	for next := start; ; next = next.Add(tick) {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		if f := pipeFill(1); f > maxFill {
			maxFill = f
		}
		t := time.Now()
		if _, err := os.Stdout.Write(buf); err != nil {
			os.Exit(1)
		}
		if d := time.Since(t); d > maxWrite {
			maxWrite = d
		}
		lines += int64(per)
		if now := time.Now(); now.Sub(lastStats) >= 500*time.Millisecond {
			lastStats = now
			s := fmt.Sprintf("%d %d %d %d\n", lines, now.Sub(start).Microseconds(), maxWrite.Microseconds(), maxFill)
			os.WriteFile(statsFile+".tmp", []byte(s), 0o644)
			os.Rename(statsFile+".tmp", statsFile)
		}
	}
}
