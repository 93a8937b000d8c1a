//go:build !linux

package boot

import "errors"

var errNoMountHelper = errors.New("the mount helper works on Linux only")

func doMount(MountCall) error            { return errNoMountHelper }
func doUnmount(string, bool, bool) error { return errNoMountHelper }
func doSwapon(string, int) error         { return errNoMountHelper }
func swapoff(string) error               { return errNoMountHelper }
