//go:build !linux

package reactor

// No fork thread here (forkthread_linux.go): the spawner forks itself.
type forkThread struct{}

func startForkThread(r *Reactor, sp *spawner) *forkThread { return nil }

func (ft *forkThread) submit(j *spawnJob) {}
func (ft *forkThread) drain()             {}
func (ft *forkThread) stop()              {}
func (ft *forkThread) busy() bool         { return false }

func ownPidFD(pid int) int { return -1 }
