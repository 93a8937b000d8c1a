package exec

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// privateRoot is one of /var/lib, /var/cache, /var/log with the
// DynamicUser= unit's directories below its private/.
type privateRoot struct {
	Root  string
	Names []string
}

// mountPrivateDirs makes a DynamicUser= unit's own directories, and only
// those, reachable below ROOT/private (0700 root on the host) as systemd
// does: in a mount namespace of the child's own, ROOT/private becomes an
// empty tmpfs (0755) with each directory bind-mounted into it. The
// symlinks ROOT/NAME -> private/NAME then work for the unit's user while
// the earlier owners' directories stay out of its reach.
func mountPrivateDirs(roots []privateRoot) error {
	if len(roots) == 0 {
		return nil
	}
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare(CLONE_NEWNS): %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return fmt.Errorf("making / a slave mount: %w", err)
	}
	for _, r := range roots {
		priv := filepath.Join(r.Root, "private")
		// The directories are opened before the tmpfs hides them.
		var fds []int
		for _, name := range r.Names {
			fd, err := unix.Open(filepath.Join(priv, name), unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(priv, name), err)
			}
			fds = append(fds, fd)
		}
		if err := unix.Mount("tmpfs", priv, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755"); err != nil {
			return fmt.Errorf("tmpfs on %s: %w", priv, err)
		}
		for i, name := range r.Names {
			target := filepath.Join(priv, name)
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			if err := unix.Mount("/proc/self/fd/"+strconv.Itoa(fds[i]), target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
				return fmt.Errorf("bind mount of %s: %w", target, err)
			}
			unix.Close(fds[i])
		}
	}
	return nil
}
