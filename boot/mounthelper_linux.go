package boot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// doMount makes the mount(2) call(s) of c. Without a type (and not a
// bind mount or a remount) it tries each block-device file system the
// kernel lists in /proc/filesystems, as mount(8) does without libblkid.
// A source of UUID= or LABEL= names the udev link.
func doMount(c MountCall) error {
	c.Source = deviceNode(c.Source)
	if c.Flags&(msBind|msRemount) == 0 && (c.FSType == "" || c.FSType == "auto") {
		types := blockFilesystems()
		if len(types) == 0 {
			return errors.New("no file system type given and none in /proc/filesystems")
		}
		var err error
		for _, t := range types {
			c.FSType = t
			if err = mountOnce(c); err == nil {
				return nil
			}
		}
		return err
	}
	return mountOnce(c)
}

func mountOnce(c MountCall) error {
	if err := unix.Mount(c.Source, c.Target, c.FSType, c.Flags, c.Data); err != nil {
		return err
	}
	if c.Then != 0 {
		if err := unix.Mount("", c.Target, "", c.Then, ""); err != nil {
			unix.Unmount(c.Target, unix.MNT_DETACH)
			return err
		}
	}
	return nil
}

// deviceNode resolves UUID=, LABEL=, PARTUUID= and PARTLABEL= to the
// links udev makes; anything else is returned as is.
func deviceNode(what string) string {
	for prefix, dir := range map[string]string{"UUID=": "by-uuid", "LABEL=": "by-label",
		"PARTUUID=": "by-partuuid", "PARTLABEL=": "by-partlabel"} {
		if v, ok := strings.CutPrefix(what, prefix); ok {
			return filepath.Join("/dev/disk", dir, strings.Trim(v, `"`))
		}
	}
	return what
}

// blockFilesystems are the file systems of /proc/filesystems that need a
// device (no "nodev" mark), in the kernel's order.
func blockFilesystems() []string {
	b, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 1 {
			out = append(out, f[0])
		}
	}
	return out
}

func doUnmount(where string, lazy, force bool) error {
	flags := unix.UMOUNT_NOFOLLOW
	if lazy {
		flags |= unix.MNT_DETACH
	}
	if force {
		flags |= unix.MNT_FORCE
	}
	return unix.Unmount(where, flags)
}

func doSwapon(what string, flags int) error {
	p, err := unix.BytePtrFromString(deviceNode(what))
	if err != nil {
		return err
	}
	if _, _, e := unix.Syscall(unix.SYS_SWAPON, uintptr(unsafe.Pointer(p)), uintptr(flags), 0); e != 0 {
		return e
	}
	return nil
}
