//go:build !linux

package exec

import (
	"fmt"
	"os"
	"runtime"
)

// applySandbox: this system has no Linux namespaces. As systemd does in a
// container that forbids them, a unit whose file system view would not
// change runs without the mount namespace (with a log line); anything
// else fails the spawn with the namespace status.
func applySandbox(sb *sandbox) (int, error) {
	if sb.Network || sb.NetNSPath != "" {
		return exitNetwork, fmt.Errorf("PrivateNetwork=/NetworkNamespacePath= need Linux network namespaces (%s)", runtime.GOOS)
	}
	if sb.IPC || sb.UTS {
		return exitNamespace, fmt.Errorf("PrivateIPC=/ProtectHostname= need Linux namespaces (%s)", runtime.GOOS)
	}
	if sb.Mount != nil {
		if sb.Mount.Insist {
			return exitNamespace, fmt.Errorf("the unit's file system view needs a Linux mount namespace (%s)", runtime.GOOS)
		}
		fmt.Fprintf(os.Stderr, "gosd-exec-helper: Failed to set up namespace, assuming containerized execution and ignoring: not Linux\n")
	}
	return 0, nil
}

func joinSharedNamespaces(sb *sandbox) (int, error) { return 0, nil }

func newNamespace(kind string) (int, error) {
	return -1, fmt.Errorf("%s namespaces need Linux (%s)", kind, runtime.GOOS)
}
