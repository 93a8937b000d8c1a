package exec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// RemoveIPC removes the System V IPC objects (shared memory, semaphores,
// message queues) and POSIX shared memory and message queues owned by uid
// or gid (systemd.exec(5) "RemoveIPC="). It keeps going past errors and
// returns them all.
func RemoveIPC(uid, gid uint32) error {
	var errs []error
	for _, kind := range []struct {
		file   string
		remove func(id int) error
	}{
		{"/proc/sysvipc/shm", func(id int) error { _, err := unix.SysvShmCtl(id, unix.IPC_RMID, nil); return err }},
		{"/proc/sysvipc/sem", func(id int) error { return ipcRemove(unix.SYS_SEMCTL, id) }},
		{"/proc/sysvipc/msg", func(id int) error { return ipcRemove(unix.SYS_MSGCTL, id) }},
	} {
		ids, err := sysvOwned(kind.file, uid, gid)
		if err != nil {
			errs = append(errs, err)
		}
		for _, id := range ids {
			if err := kind.remove(id); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.EIDRM) {
				errs = append(errs, fmt.Errorf("%s id %d: %w", kind.file, id, err))
			}
		}
	}
	for _, dir := range []string{"/dev/shm", "/dev/mqueue"} {
		errs = append(errs, removeOwned(dir, uid, gid))
	}
	return errors.Join(errs...)
}

func ipcRemove(nr uintptr, id int) error {
	// semctl(id, 0, IPC_RMID) and msgctl(id, IPC_RMID, NULL).
	var e syscall.Errno
	if nr == unix.SYS_SEMCTL {
		_, _, e = unix.Syscall6(nr, uintptr(id), 0, unix.IPC_RMID, 0, 0, 0)
	} else {
		_, _, e = unix.Syscall(nr, uintptr(id), unix.IPC_RMID, 0)
	}
	if e != 0 {
		return e
	}
	return nil
}

// sysvOwned lists the ids in a /proc/sysvipc table whose owner (uid or
// gid column) matches; the columns are found by the header's names.
func sysvOwned(file string, uid, gid uint32) ([]int, error) {
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil, nil // no System V IPC in this kernel
	}
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 2 {
		return nil, nil
	}
	idCol, uidCol, gidCol := -1, -1, -1
	for i, h := range strings.Fields(lines[0]) {
		switch h {
		case "shmid", "semid", "msqid":
			idCol = i
		case "uid":
			uidCol = i
		case "gid":
			gidCol = i
		}
	}
	if idCol < 0 || uidCol < 0 || gidCol < 0 {
		return nil, fmt.Errorf("%s: unknown header %q", file, lines[0])
	}
	var ids []int
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) <= max(idCol, uidCol, gidCol) {
			continue
		}
		if f[uidCol] != strconv.Itoa(int(uid)) && f[gidCol] != strconv.Itoa(int(gid)) {
			continue
		}
		if id, err := strconv.Atoi(f[idCol]); err == nil {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// removeOwned removes the entries of dir (recursively) owned by uid or gid.
func removeOwned(dir string, uid, gid uint32) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil // not mounted here: nothing to remove
	}
	var errs []error
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		var st unix.Stat_t
		if unix.Lstat(p, &st) != nil {
			continue
		}
		if st.Uid == uid || st.Gid == gid {
			errs = append(errs, os.RemoveAll(p))
		} else if e.IsDir() {
			errs = append(errs, removeOwned(p, uid, gid))
		}
	}
	return errors.Join(errs...)
}
