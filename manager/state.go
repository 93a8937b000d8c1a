package manager

// ActiveState is systemd's generic state of a unit, the same for every
// type (systemd.unit(5) ActiveState=). Each type maps its own sub-states
// to it (unitType.activeOf). Strings appear only at the edges: UnitStatus,
// UnitChanged, Saved and the log.
type ActiveState uint8

const (
	ActiveInactive ActiveState = iota
	ActiveActivating
	ActiveActive
	ActiveReloading
	ActiveDeactivating
	ActiveFailed
	numActive
)

var activeNames = [numActive]string{"inactive", "activating", "active", "reloading", "deactivating", "failed"}

func (a ActiveState) String() string {
	if a < numActive {
		return activeNames[a]
	}
	return "unknown"
}

// ParseActiveState is the inverse of String.
func ParseActiveState(s string) (ActiveState, bool) {
	for i, n := range activeNames {
		if n == s {
			return ActiveState(i), true
		}
	}
	return ActiveInactive, false
}

// SubState is a unit's type-specific state (systemd's SubState=). One
// enum holds the sub-states of every type; a type uses its own subset and
// says which generic state each of them is in.
type SubState uint8

const (
	SubDead SubState = iota
	SubFailed
	// services (systemd.service(5) and systemd's service_state_table),
	// socket units share the control ones
	SubCondition
	SubStartPre
	SubStart
	SubStartPost
	SubRunning
	SubExited
	SubReload
	SubStop
	SubStopWatchdog
	SubStopSigterm
	SubStopSigkill
	SubStopPost
	SubFinalSigterm
	SubFinalSigkill
	SubAutoRestart
	// socket units
	SubListening
	SubStopPre
	// timer and path units
	SubWaiting
	SubElapsed
	// targets, devices, mounts
	SubActive
	SubPlugged
	SubMounted
	// mount units
	SubMounting
	SubUnmounting
	// swap units
	SubActivating
	SubDeactivating
	numSub
)

var subNames = [numSub]string{
	"dead", "failed",
	"condition", "start-pre", "start", "start-post", "running", "exited", "reload", "stop",
	"stop-watchdog", "stop-sigterm", "stop-sigkill", "stop-post", "final-sigterm", "final-sigkill",
	"auto-restart",
	"listening", "stop-pre",
	"waiting", "elapsed",
	"active", "plugged", "mounted",
	"mounting", "unmounting",
	"activating", "deactivating",
}

func (s SubState) String() string {
	if s < numSub {
		return subNames[s]
	}
	return "unknown"
}

// ParseSubState is the inverse of String.
func ParseSubState(s string) (SubState, bool) {
	for i, n := range subNames {
		if n == s {
			return SubState(i), true
		}
	}
	return SubDead, false
}
