//go:build !linux

package reactor

// The kernel's messages are read on Linux only (/dev/kmsg).

type kmsgReader struct{ fd int }

func (r *Reactor) openKmsgReader()        {}
func (r *Reactor) closeKmsgReader()       {}
func (r *Reactor) readKmsg(k *kmsgReader) {}
