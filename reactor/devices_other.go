//go:build !linux

package reactor

// Devices are followed on Linux only: elsewhere device units are taken as
// present when their node exists (unitfile.FollowsDevices).

type ueventSource struct{}

func (r *Reactor) startDeviceWatch() {}
func (r *Reactor) openDeviceWatch()  {}
func (r *Reactor) closeDeviceWatch() {}
func (r *Reactor) readUevents()      {}

func (fs deviceFS) linkIsDevice(l, major, minor string) bool { return true }
