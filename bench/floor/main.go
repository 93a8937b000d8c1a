//go:build linux

// Command floor is the lower bound gosd is measured against: it spawns and
// reaps the services of a generated tree with the same ordering and the same
// parallelism, and nothing else (no unit files, no cgroups, no logging, no
// control socket). It prints "floor: all up" when every service is up
// (simple: spawned; notify: READY=1 received; oneshot: exited). On SIGTERM
// it stops everything in the reverse of the After= order, as systemd and
// gosd do (systemd.unit(5): "the inverse of the start-up order is
// applied"): a service gets its SIGTERM once every service ordered After=
// it has exited. When all have exited it exits 0.
//
//	floor SPEC.json NOTIFY_SOCKET_PATH
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"gosd/bench/spec"
)

type svc struct {
	spec.Service
	pending    int   // After= predecessors not up yet
	dependents []int // services ordered after this one
	idx        int
	pid        int
	up         bool
	// At stop: dependents still running, and whether this one is done
	// (exited, or signalled its end was seen).
	stopWait int
	gone     bool
}

func main() {
	// Separate channels: a burst of SIGCHLD must never crowd out SIGTERM.
	sigs := make(chan os.Signal, 1024)
	signal.Notify(sigs, syscall.SIGCHLD)
	term := make(chan os.Signal, 4)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: floor SPEC.json NOTIFY_SOCKET")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	check(err)
	var tree spec.Tree
	check(json.Unmarshal(data, &tree))
	notifyPath := os.Args[2]

	// Notify socket with credentials, read by one goroutine.
	os.Remove(notifyPath)
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	check(err)
	check(syscall.Bind(fd, &syscall.SockaddrUnix{Name: notifyPath}))
	check(syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_PASSCRED, 1))
	ready := make(chan int, 1024)
	go func() {
		buf := make([]byte, 4096)
		oob := make([]byte, 1024)
		for {
			n, oobn, _, _, err := syscall.Recvmsg(fd, buf, oob, 0)
			if err != nil {
				continue
			}
			msgs, _ := syscall.ParseSocketControlMessage(oob[:oobn])
			for _, m := range msgs {
				if cred, err := syscall.ParseUnixCredentials(&m); err == nil && bytes.Contains(buf[:n], []byte("READY=1")) {
					ready <- int(cred.Pid)
				}
			}
		}
	}()

	devnull, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
	check(err)
	env := append(os.Environ(), "NOTIFY_SOCKET="+notifyPath)
	attr := &syscall.ProcAttr{Env: env, Files: []uintptr{devnull.Fd(), devnull.Fd(), devnull.Fd()}}

	svcs := make([]*svc, len(tree.Services))
	for i, s := range tree.Services {
		svcs[i] = &svc{Service: s, idx: i, pending: len(s.After)}
	}
	for i, s := range svcs {
		for _, a := range s.After {
			svcs[a].dependents = append(svcs[a].dependents, i)
		}
	}
	byPid := map[int]*svc{}
	remaining := len(svcs)
	var queue []int // services whose predecessors are all up
	var markUp func(i int)
	markUp = func(i int) {
		s := svcs[i]
		if s.up {
			return
		}
		s.up = true
		remaining--
		for _, d := range s.dependents {
			svcs[d].pending--
			if svcs[d].pending == 0 {
				queue = append(queue, d)
			}
		}
	}
	spawn := func(i int) {
		s := svcs[i]
		pid, err := syscall.ForkExec(s.Argv[0], s.Argv, attr)
		check(err)
		s.pid = pid
		byPid[pid] = s
		if s.Type == "simple" {
			markUp(i)
		}
	}
	for i, s := range svcs {
		if s.pending == 0 {
			queue = append(queue, i)
		}
	}
	run := func() {
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			spawn(i)
		}
	}
	stopping := false
	announced := false
	announce := func() {
		if !announced && remaining == 0 {
			announced = true
			os.Stdout.WriteString("floor: all up\n")
		}
	}
	// The stop, in the reverse of the start's order: a service is
	// signalled once every dependent (a service ordered After= it) has
	// exited; one that is not running is gone at once.
	var stopOne, goneOne func(i int)
	stopOne = func(i int) {
		if s := svcs[i]; s.pid != 0 {
			syscall.Kill(s.pid, syscall.SIGTERM)
		} else {
			goneOne(i)
		}
	}
	goneOne = func(i int) {
		s := svcs[i]
		if s.gone {
			return
		}
		s.gone = true
		for _, a := range s.After {
			if svcs[a].stopWait--; svcs[a].stopWait == 0 {
				stopOne(a)
			}
		}
	}
	reap := func() {
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				return
			}
			if s, ok := byPid[pid]; ok {
				delete(byPid, pid)
				s.pid = 0
				if stopping {
					goneOne(s.idx)
				} else if s.Type == "oneshot" {
					markUp(s.idx)
				}
			}
		}
	}
	run()
	announce()
	for {
		select {
		case <-sigs:
			reap()
		case <-term:
			if !stopping {
				stopping = true
				for _, s := range svcs {
					s.stopWait = len(s.dependents)
				}
				for i, s := range svcs {
					if s.stopWait == 0 {
						stopOne(i)
					}
				}
				reap()
			}
		case pid := <-ready:
			if s, ok := byPid[pid]; ok && s.Type == "notify" {
				markUp(s.idx)
			}
		}
		if stopping {
			if len(byPid) == 0 {
				os.Exit(0)
			}
			continue
		}
		run()
		announce()
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}
