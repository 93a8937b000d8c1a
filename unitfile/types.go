package unitfile

import (
	"fmt"
	"math"
	"time"
)

// Pos is where a value came from: a file and a 1-based line.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

func (p Pos) String() string {
	if p.File == "" {
		return "-"
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Severity of a diagnostic.
type Severity int

const (
	Warning Severity = iota // systemd logs it and goes on
	Error                   // the unit (or the one setting) is unusable
)

// Diag is one problem found while reading units.
type Diag struct {
	Pos      Pos      `json:"pos"`
	Unit     string   `json:"unit,omitempty"`
	Severity Severity `json:"severity"`
	Msg      string   `json:"msg"`
}

// String renders "file:line: message", the form `gosd verify` prints.
func (d Diag) String() string {
	prefix := ""
	if d.Severity == Warning {
		prefix = "warning: "
	}
	return fmt.Sprintf("%s: %s%s", d.Pos, prefix, d.Msg)
}

// Entry is one assignment as written in a file, after line continuation and
// comment removal but before any value parsing.
type Entry struct {
	Section string `json:"section"`
	Key     string `json:"key"`
	Value   string `json:"value"`
	Pos     Pos    `json:"pos"`
}

// Infinity is the time span "infinity" (and the rlimit/size "infinity").
const Infinity = time.Duration(math.MaxInt64)

// LoadState as systemctl shows it.
type LoadState string

const (
	Loaded     LoadState = "loaded"
	NotFound   LoadState = "not-found"
	BadSetting LoadState = "bad-setting"
	LoadError  LoadState = "error"
	Masked     LoadState = "masked"
)

// Unit is one unit with every setting typed, after drop-ins, templates and
// specifiers. Exactly one of Service/Socket is set for those types; a target
// has neither.
type Unit struct {
	Name         string    `json:"name"`               // e.g. "foo@bar.service"
	Type         string    `json:"type"`               // suffix without dot: service, socket, target, ...
	Template     string    `json:"template,omitempty"` // "foo@.service" for an instance
	Instance     string    `json:"instance,omitempty"` // "bar" (escaped form)
	FragmentPath string    `json:"fragment_path,omitempty"`
	DropIns      []string  `json:"drop_ins,omitempty"`
	Names        []string  `json:"names,omitempty"` // aliases (symlinks, Alias=) besides Name
	LoadState    LoadState `json:"load_state"`
	Diags        []Diag    `json:"diags,omitempty"`
	// Entries are the effective assignments in order (fragment then
	// drop-ins), values with specifiers resolved where systemd resolves them.
	Entries []Entry `json:"-"`

	Unit    UnitSection    `json:"unit"`
	Install InstallSection `json:"install"`
	Service *Service       `json:"service,omitempty"`
	Socket  *Socket        `json:"socket,omitempty"`
	Timer   *Timer         `json:"timer,omitempty"`
	Path    *Path          `json:"path,omitempty"`
	Mount   *Mount         `json:"mount,omitempty"`
	Swap    *Swap          `json:"swap,omitempty"`
	Slice   *Slice         `json:"slice,omitempty"`
	// Automount is [Automount] (systemd.automount(5)).
	Automount *Automount `json:"automount,omitempty"`
	// Extra holds unknown sections and X- keys, kept as written.
	Extra []Entry `json:"extra,omitempty"`
}

// UnitSection is [Unit] (systemd.unit(5)).
type UnitSection struct {
	Description   string   `json:"description,omitempty"`
	Documentation []string `json:"documentation,omitempty"`

	Wants                []string `json:"wants,omitempty"`
	Requires             []string `json:"requires,omitempty"`
	Requisite            []string `json:"requisite,omitempty"`
	BindsTo              []string `json:"binds_to,omitempty"`
	PartOf               []string `json:"part_of,omitempty"`
	Upholds              []string `json:"upholds,omitempty"`
	Conflicts            []string `json:"conflicts,omitempty"`
	OnFailure            []string `json:"on_failure,omitempty"`
	OnSuccess            []string `json:"on_success,omitempty"`
	Before               []string `json:"before,omitempty"`
	After                []string `json:"after,omitempty"`
	PropagatesReloadTo   []string `json:"propagates_reload_to,omitempty"`
	ReloadPropagatedFrom []string `json:"reload_propagated_from,omitempty"`
	JoinsNamespaceOf     []string `json:"joins_namespace_of,omitempty"`
	// RequiresMountsFor: absolute paths; the unit gets Requires= and
	// After= on the mount units needed to reach each of them.
	RequiresMountsFor []string `json:"requires_mounts_for,omitempty"`

	DefaultDependencies bool   `json:"default_dependencies"` // default true
	RefuseManualStart   bool   `json:"refuse_manual_start,omitempty"`
	RefuseManualStop    bool   `json:"refuse_manual_stop,omitempty"`
	AllowIsolate        bool   `json:"allow_isolate,omitempty"`
	StopWhenUnneeded    bool   `json:"stop_when_unneeded,omitempty"`
	IgnoreOnIsolate     bool   `json:"ignore_on_isolate,omitempty"`
	OnFailureJobMode    string `json:"on_failure_job_mode,omitempty"` // default "replace"

	JobTimeoutSec    time.Duration `json:"job_timeout_sec"` // default Infinity
	JobTimeoutAction string        `json:"job_timeout_action,omitempty"`
	// JobRunningTimeoutSec bounds a job from when it runs (not while it
	// waits for others); default Infinity, 90 s for device units.
	JobRunningTimeoutSec    time.Duration `json:"job_running_timeout_sec"`
	StartLimitIntervalSec   time.Duration `json:"start_limit_interval_sec"`   // default 10s
	StartLimitBurst         int           `json:"start_limit_burst"`          // default 5
	StartLimitAction        string        `json:"start_limit_action"`         // default "none"
	FailureAction           string        `json:"failure_action"`             // default "none"
	SuccessAction           string        `json:"success_action"`             // default "none"
	FailureActionExitStatus int           `json:"failure_action_exit_status"` // -1 unset
	SuccessActionExitStatus int           `json:"success_action_exit_status"` // -1 unset
	RebootArgument          string        `json:"reboot_argument,omitempty"`
	SourcePath              string        `json:"source_path,omitempty"`

	Conditions []Condition `json:"conditions,omitempty"`
	Asserts    []Condition `json:"asserts,omitempty"`

	// Unenforced lists [Unit] and [Install] settings gosd understands but
	// does not act on (CollectMode=, ...).
	Unenforced []Entry `json:"unenforced,omitempty"`
}

// Condition is one Condition*= or Assert*= line.
type Condition struct {
	Kind    string `json:"kind"`    // without prefix: "PathExists", "Virtualization", ...
	Trigger bool   `json:"trigger"` // "|" prefix: any triggering condition suffices
	Negate  bool   `json:"negate"`  // "!" prefix
	Value   string `json:"value"`
	Pos     Pos    `json:"pos"`
}

// InstallSection is [Install].
type InstallSection struct {
	WantedBy        []string `json:"wanted_by,omitempty"`
	RequiredBy      []string `json:"required_by,omitempty"`
	Alias           []string `json:"alias,omitempty"`
	Also            []string `json:"also,omitempty"`
	DefaultInstance string   `json:"default_instance,omitempty"`
}

// Service is [Service] (systemd.service(5)).
type Service struct {
	Type            string `json:"type"` // simple (default), exec, forking, oneshot, dbus, notify, notify-reload, idle
	ExitType        string `json:"exit_type"`
	RemainAfterExit bool   `json:"remain_after_exit"`
	GuessMainPID    bool   `json:"guess_main_pid"` // default true
	PIDFile         string `json:"pid_file,omitempty"`
	BusName         string `json:"bus_name,omitempty"`

	ExecCondition []ExecCommand `json:"exec_condition,omitempty"`
	ExecStartPre  []ExecCommand `json:"exec_start_pre,omitempty"`
	ExecStart     []ExecCommand `json:"exec_start,omitempty"`
	ExecStartPost []ExecCommand `json:"exec_start_post,omitempty"`
	ExecReload    []ExecCommand `json:"exec_reload,omitempty"`
	ExecStop      []ExecCommand `json:"exec_stop,omitempty"`
	ExecStopPost  []ExecCommand `json:"exec_stop_post,omitempty"`

	RestartSec              time.Duration `json:"restart_sec"`                // default 100ms
	ReloadSignal            int           `json:"reload_signal"`              // Type=notify-reload; default SIGHUP
	TimeoutStartSec         time.Duration `json:"timeout_start_sec"`          // default 90s; Infinity = none
	TimeoutStopSec          time.Duration `json:"timeout_stop_sec"`           // default 90s
	TimeoutAbortSec         time.Duration `json:"timeout_abort_sec"`          // default = TimeoutStopSec
	TimeoutStartFailureMode string        `json:"timeout_start_failure_mode"` // terminate (default), abort, kill
	TimeoutStopFailureMode  string        `json:"timeout_stop_failure_mode"`
	RuntimeMaxSec           time.Duration `json:"runtime_max_sec"` // default Infinity
	WatchdogSec             time.Duration `json:"watchdog_sec"`    // 0 = off

	Restart                  string        `json:"restart"` // no (default), on-success, on-failure, on-abnormal, on-watchdog, on-abort, always
	SuccessExitStatus        ExitStatusSet `json:"success_exit_status"`
	RestartPreventExitStatus ExitStatusSet `json:"restart_prevent_exit_status"`
	RestartForceExitStatus   ExitStatusSet `json:"restart_force_exit_status"`
	RootDirectoryStartOnly   bool          `json:"root_directory_start_only,omitempty"`
	// PermissionsStartOnly (deprecated): every command but ExecStart= runs
	// as with the "+" prefix.
	PermissionsStartOnly   bool     `json:"permissions_start_only,omitempty"`
	NonBlocking            bool     `json:"non_blocking,omitempty"`
	NotifyAccess           string   `json:"notify_access"` // none (default; main for notify types), main, exec, all
	Sockets                []string `json:"sockets,omitempty"`
	FileDescriptorStoreMax int      `json:"file_descriptor_store_max"`
	OOMPolicy              string   `json:"oom_policy,omitempty"`

	Exec      ExecContext     `json:"exec"`
	Kill      KillContext     `json:"kill"`
	Resources ResourceControl `json:"resources"`
}

// ExecCommand is one Exec*= line (systemd.service(5) "COMMAND LINES").
type ExecCommand struct {
	// Path is the program to execute (absolute, or a bare name resolved
	// against the fixed search path at exec time).
	Path string `json:"path"`
	// Argv is argv[0..] after quoting and C escapes, with "$VAR"/"${VAR}"
	// still unexpanded (expansion needs the environment at exec time).
	// With "@", Argv[0] is the argv[0] to pass and Path is the second word.
	Argv []string `json:"argv"`

	IgnoreFailure  bool `json:"ignore_failure,omitempty"`  // "-"
	ArgvZero       bool `json:"argv_zero,omitempty"`       // "@"
	NoEnvExpand    bool `json:"no_env_expand,omitempty"`   // ":"
	FullPrivileges bool `json:"full_privileges,omitempty"` // "+"
	NoSetuid       bool `json:"no_setuid,omitempty"`       // "!"
	AmbientOnly    bool `json:"ambient_only,omitempty"`    // "!!"
	Pos            Pos  `json:"pos"`
}

// EnvFile is one EnvironmentFile= line; "-" makes it optional.
type EnvFile struct {
	Path     string `json:"path"`
	Optional bool   `json:"optional,omitempty"`
}

// Rlimit is a soft:hard pair; RlimInfinity means unlimited.
type Rlimit struct {
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
}

// RlimInfinity is "infinity" for Limit*=.
const RlimInfinity = ^uint64(0)

// Stdio is StandardInput/Output/Error: Kind is one of null, inherit, tty,
// journal, kmsg, syslog (and +console forms), socket, fd, file, append,
// truncate, data; Path is set for file/append/truncate, Name for fd:NAME.
type Stdio struct {
	Kind string `json:"kind"`
	Path string `json:"path,omitempty"`
	Name string `json:"name,omitempty"`
}

// ExecContext is the process environment of systemd.exec(5).
type ExecContext struct {
	// SamePgrp keeps the process in gosd's process group instead of a
	// session of its own: set for mount units' mount(8) and umount(8),
	// never from a unit file (systemd's same_pgrp).
	SamePgrp         bool      `json:"same_pgrp,omitempty"`
	Environment      []string  `json:"environment,omitempty"` // KEY=VALUE, in order, later wins
	EnvironmentFiles []EnvFile `json:"environment_files,omitempty"`
	PassEnvironment  []string  `json:"pass_environment,omitempty"`
	UnsetEnvironment []string  `json:"unset_environment,omitempty"`

	User                string   `json:"user,omitempty"`
	Group               string   `json:"group,omitempty"`
	SupplementaryGroups []string `json:"supplementary_groups,omitempty"`
	DynamicUser         bool     `json:"dynamic_user,omitempty"`

	WorkingDirectory         string `json:"working_directory,omitempty"` // "~" = user's home
	WorkingDirectoryOptional bool   `json:"working_directory_optional,omitempty"`
	RootDirectory            string `json:"root_directory,omitempty"`
	UMask                    uint32 `json:"umask"` // default 0022
	Nice                     *int   `json:"nice,omitempty"`
	OOMScoreAdjust           *int   `json:"oom_score_adjust,omitempty"`
	// KeyringMode: "private" (a session keyring of the service's own)
	// or "shared" (with the user's keyring linked in); "inherit" leaves
	// the process gosd's. "" is systemd's default: private for services,
	// inherit for other units.
	KeyringMode string `json:"keyring_mode,omitempty"`
	// Limits maps the resource name without "Limit" (NOFILE, CORE, ...).
	Limits map[string]Rlimit `json:"limits,omitempty"`

	StandardInput     Stdio  `json:"standard_input"`                // default null
	StandardOutput    Stdio  `json:"standard_output"`               // default journal
	StandardError     Stdio  `json:"standard_error"`                // default inherit (= same as output)
	StandardInputData []byte `json:"standard_input_data,omitempty"` // from StandardInputText/Data
	TTYPath           string `json:"tty_path,omitempty"`
	SyslogIdentifier  string `json:"syslog_identifier,omitempty"`
	// Logging of the unit's output (systemd.exec(5)), nil for systemd's
	// default: the level and facility of a line without "<N>" (info,
	// daemon), whether "<N>" sets the level (yes), the least severe level
	// kept (all), and the unit's own rate limit (0: the log's default).
	SyslogLevel             *int          `json:"syslog_level,omitempty"`
	SyslogFacility          *int          `json:"syslog_facility,omitempty"`
	SyslogLevelPrefix       *bool         `json:"syslog_level_prefix,omitempty"`
	LogLevelMax             *int          `json:"log_level_max,omitempty"`
	LogRateLimitIntervalSec time.Duration `json:"log_rate_limit_interval_sec,omitempty"`
	LogRateLimitBurst       int           `json:"log_rate_limit_burst,omitempty"`

	RuntimeDirectory           []string `json:"runtime_directory,omitempty"`
	StateDirectory             []string `json:"state_directory,omitempty"`
	CacheDirectory             []string `json:"cache_directory,omitempty"`
	LogsDirectory              []string `json:"logs_directory,omitempty"`
	ConfigurationDirectory     []string `json:"configuration_directory,omitempty"`
	RuntimeDirectoryMode       uint32   `json:"runtime_directory_mode"` // default 0755, likewise the others
	StateDirectoryMode         uint32   `json:"state_directory_mode"`
	CacheDirectoryMode         uint32   `json:"cache_directory_mode"`
	LogsDirectoryMode          uint32   `json:"logs_directory_mode"`
	ConfigurationDirectoryMode uint32   `json:"configuration_directory_mode"`
	RuntimeDirectoryPreserve   string   `json:"runtime_directory_preserve"` // no (default), yes, restart

	NoNewPrivileges bool `json:"no_new_privileges,omitempty"`
	// CapabilityBoundingSet is the set kept, names like CAP_NET_ADMIN in
	// number order; nil: unchanged, empty: none (so no omitempty: JSON
	// keeps [] apart from null).
	CapabilityBoundingSet []string `json:"capability_bounding_set"`
	AmbientCapabilities   []string `json:"ambient_capabilities,omitempty"`

	ProcessSecurity // identity, seccomp and process settings (security.go)

	// Sandboxing: namespaces and the file system view (systemd.exec(5)
	// "Sandboxing"), applied in the child by exec.
	ProtectSystem         string `json:"protect_system,omitempty"` // "" (no), yes, full, strict
	ProtectHome           string `json:"protect_home,omitempty"`   // "" (no), yes, read-only, tmpfs
	PrivateTmp            bool   `json:"private_tmp,omitempty"`
	PrivateDevices        bool   `json:"private_devices,omitempty"`
	PrivateNetwork        bool   `json:"private_network,omitempty"`
	PrivateIPC            bool   `json:"private_ipc,omitempty"`
	PrivateUsers          bool   `json:"private_users,omitempty"`
	PrivateMounts         bool   `json:"private_mounts,omitempty"`
	ProtectKernelTunables bool   `json:"protect_kernel_tunables,omitempty"`
	ProtectKernelModules  bool   `json:"protect_kernel_modules,omitempty"`
	ProtectKernelLogs     bool   `json:"protect_kernel_logs,omitempty"`
	ProtectControlGroups  bool   `json:"protect_control_groups,omitempty"`
	ProtectHostname       bool   `json:"protect_hostname,omitempty"`
	ProtectProc           string `json:"protect_proc,omitempty"` // "" (default), noaccess, invisible, ptraceable
	ProcSubset            string `json:"proc_subset,omitempty"`  // "" (all), pid
	// MountAPIVFS is nil when not set: on with RootDirectory=, else off.
	MountAPIVFS          *bool        `json:"mount_api_vfs,omitempty"`
	MountFlags           string       `json:"mount_flags,omitempty"` // "" (shared), shared, slave, private
	ReadWritePaths       []PathEntry  `json:"read_write_paths,omitempty"`
	ReadOnlyPaths        []PathEntry  `json:"read_only_paths,omitempty"`
	InaccessiblePaths    []PathEntry  `json:"inaccessible_paths,omitempty"`
	ExecPaths            []PathEntry  `json:"exec_paths,omitempty"`
	NoExecPaths          []PathEntry  `json:"no_exec_paths,omitempty"`
	BindPaths            []BindEntry  `json:"bind_paths,omitempty"` // BindPaths= and BindReadOnlyPaths=
	TemporaryFileSystem  []TmpfsEntry `json:"temporary_file_system,omitempty"`
	NetworkNamespacePath string       `json:"network_namespace_path,omitempty"`

	// Unenforced lists settings gosd understands but does not enforce
	// (sandboxing and the like); the unit still runs and they are reported.
	Unenforced []Entry `json:"unenforced,omitempty"`
}

// PathEntry is one path of ReadWritePaths= and its kin: "-" makes a
// missing path no error, "+" takes it relative to RootDirectory=.
type PathEntry struct {
	Path     string `json:"path"`
	Optional bool   `json:"optional,omitempty"`
	InRoot   bool   `json:"in_root,omitempty"`
}

// BindEntry is one BindPaths=/BindReadOnlyPaths= mount: SOURCE[:DEST[:OPTIONS]],
// "-" before SOURCE makes a missing source no error; "norbind" binds
// without the submounts.
type BindEntry struct {
	Source       string `json:"source"`
	Dest         string `json:"dest"`
	ReadOnly     bool   `json:"read_only,omitempty"`
	Optional     bool   `json:"optional,omitempty"`
	NonRecursive bool   `json:"non_recursive,omitempty"`
}

// TmpfsEntry is one TemporaryFileSystem= mount point with its options
// (as written; "" for the defaults).
type TmpfsEntry struct {
	Path    string `json:"path"`
	Options string `json:"options,omitempty"`
}

// NeedsMountNamespace says whether the settings ask for a mount namespace.
func (ec *ExecContext) NeedsMountNamespace() bool {
	return ec.PrivateTmp || ec.PrivateDevices || ec.PrivateMounts || ec.ProtectSystem != "" ||
		ec.ProtectHome != "" || ec.ProtectKernelTunables || ec.ProtectKernelModules ||
		ec.ProtectKernelLogs || ec.ProtectControlGroups || ec.ProtectProc != "" || ec.ProcSubset != "" ||
		(ec.MountAPIVFS != nil && *ec.MountAPIVFS) || ec.MountFlags != "" ||
		len(ec.ReadWritePaths)+len(ec.ReadOnlyPaths)+len(ec.InaccessiblePaths)+len(ec.ExecPaths)+
			len(ec.NoExecPaths)+len(ec.BindPaths)+len(ec.TemporaryFileSystem) > 0 ||
		// A network namespace of its own gets its own /sys (systemd).
		ec.PrivateNetwork && ec.PrivateMounts
}

// KillContext is systemd.kill(5).
type KillContext struct {
	KillMode          string `json:"kill_mode"`           // control-group (default), mixed, process, none
	KillSignal        int    `json:"kill_signal"`         // default SIGTERM
	RestartKillSignal int    `json:"restart_kill_signal"` // default = KillSignal
	SendSIGHUP        bool   `json:"send_sighup,omitempty"`
	SendSIGKILL       bool   `json:"send_sigkill"`      // default true
	FinalKillSignal   int    `json:"final_kill_signal"` // default SIGKILL
	WatchdogSignal    int    `json:"watchdog_signal"`   // default SIGABRT
}

// ResourceControl is the subset of systemd.resource-control(5) gosd applies
// through cgroup v2. Unset values are nil / zero.
type ResourceControl struct {
	CPUWeight *uint64 `json:"cpu_weight,omitempty"`
	// StartupCPUWeight replaces CPUWeight while the system starts up and
	// shuts down.
	StartupCPUWeight *uint64 `json:"startup_cpu_weight,omitempty"`
	// AllowedCPUs and AllowedMemoryNodes are cpuset.cpus and cpuset.mems,
	// sorted.
	AllowedCPUs        []int   `json:"allowed_cpus,omitempty"`
	AllowedMemoryNodes []int   `json:"allowed_memory_nodes,omitempty"`
	CPUQuota           *uint64 `json:"cpu_quota_percent,omitempty"` // percent of one CPU
	MemoryMin          *uint64 `json:"memory_min,omitempty"`
	MemoryLow          *uint64 `json:"memory_low,omitempty"`
	MemoryHigh         *uint64 `json:"memory_high,omitempty"`
	MemoryMax          *uint64 `json:"memory_max,omitempty"` // RlimInfinity = "infinity"
	MemorySwapMax      *uint64 `json:"memory_swap_max,omitempty"`
	TasksMax           *uint64 `json:"tasks_max,omitempty"`
	IOWeight           *uint64 `json:"io_weight,omitempty"`
	Delegate           bool    `json:"delegate,omitempty"`
	Slice              string  `json:"slice,omitempty"`
	// Percent holds Memory*= and TasksMax= values given as a percentage
	// (of physical memory, or of the system's task limit), keyed by the
	// setting name ("MemoryMax"), in hundredths of a percent; the pointer
	// field of that setting is then nil.
	Percent map[string]uint64 `json:"percent,omitempty"`

	Devices  // DeviceAllow=, DevicePolicy= (security.go)
	IPAccess // IPAddressAllow=, IPAddressDeny= (security.go)
}

// ExitStatusSet is a list of exit codes and signals (SuccessExitStatus= ...).
type ExitStatusSet struct {
	Codes   []int `json:"codes,omitempty"`
	Signals []int `json:"signals,omitempty"`
}

// ListenKind is which Listen*= line a Listen came from.
type ListenKind string

const (
	ListenStream           ListenKind = "Stream"
	ListenDatagram         ListenKind = "Datagram"
	ListenSequentialPacket ListenKind = "SequentialPacket"
	ListenFIFO             ListenKind = "FIFO"
	ListenSpecial          ListenKind = "Special"
	ListenNetlink          ListenKind = "Netlink"
	ListenMessageQueue     ListenKind = "MessageQueue"
	ListenUSBFunction      ListenKind = "USBFunction"
)

// Listen is one Listen*= address, classified as systemd.socket(5) says.
type Listen struct {
	Kind ListenKind `json:"kind"`
	// Family: "inet" (IPv4 or IPv6 by Host; "" host = port-only, dual stack),
	// "unix", "vsock", "netlink", or "" for FIFO/Special/MessageQueue/USBFunction.
	Family   string `json:"family"`
	Address  string `json:"address"`            // as written
	Host     string `json:"host,omitempty"`     // inet: IP literal, "" = any
	Port     int    `json:"port,omitempty"`     // inet and vsock
	Path     string `json:"path,omitempty"`     // unix path, FIFO, special, mqueue; netlink family name
	Abstract bool   `json:"abstract,omitempty"` // unix "@name": Path holds name without "@"
	CID      uint32 `json:"cid,omitempty"`      // vsock; VMADDR_CID_ANY when omitted
	Group    int    `json:"group,omitempty"`    // netlink multicast group
	Pos      Pos    `json:"pos"`
}

// SomaxconnDeluxe is Backlog='s default, as systemd 252's: the largest
// backlog listen(2) takes, which the kernel caps at net.core.somaxconn, so
// that the sysctl decides.
const SomaxconnDeluxe = math.MaxInt32

// Socket is [Socket] (systemd.socket(5)).
type Socket struct {
	Listen                  []Listen      `json:"listen"`
	Accept                  bool          `json:"accept"`
	Service                 string        `json:"service,omitempty"`          // default: same name .service (Accept=no) or template
	MaxConnections          int           `json:"max_connections"`            // default 64
	MaxConnectionsPerSource int           `json:"max_connections_per_source"` // default 0: no limit per source
	Backlog                 int           `json:"backlog"`                    // default SomaxconnDeluxe
	BindIPv6Only            string        `json:"bind_ipv6_only"`             // default, both, ipv6-only
	BindToDevice            string        `json:"bind_to_device,omitempty"`
	SocketUser              string        `json:"socket_user,omitempty"`
	SocketGroup             string        `json:"socket_group,omitempty"`
	SocketMode              uint32        `json:"socket_mode"`    // default 0666
	DirectoryMode           uint32        `json:"directory_mode"` // default 0755
	RemoveOnStop            bool          `json:"remove_on_stop,omitempty"`
	Symlinks                []string      `json:"symlinks,omitempty"`
	FileDescriptorName      string        `json:"file_descriptor_name,omitempty"` // default: unit name
	ReusePort               bool          `json:"reuse_port,omitempty"`
	KeepAlive               bool          `json:"keep_alive,omitempty"`
	KeepAliveTimeSec        time.Duration `json:"keep_alive_time_sec,omitempty"`
	KeepAliveIntervalSec    time.Duration `json:"keep_alive_interval_sec,omitempty"`
	KeepAliveProbes         int           `json:"keep_alive_probes,omitempty"`
	NoDelay                 bool          `json:"no_delay,omitempty"`
	FreeBind                bool          `json:"free_bind,omitempty"`
	Transparent             bool          `json:"transparent,omitempty"`
	Broadcast               bool          `json:"broadcast,omitempty"`
	PassCredentials         bool          `json:"pass_credentials,omitempty"`
	PassSecurity            bool          `json:"pass_security,omitempty"`
	PassPacketInfo          bool          `json:"pass_packet_info,omitempty"`
	ReceiveBuffer           uint64        `json:"receive_buffer,omitempty"`
	SendBuffer              uint64        `json:"send_buffer,omitempty"`
	PipeSize                uint64        `json:"pipe_size,omitempty"`
	Mark                    int           `json:"mark"`     // -1 unset
	IPTOS                   int           `json:"ip_tos"`   // -1 unset
	IPTTL                   int           `json:"ip_ttl"`   // -1 unset
	Priority                int           `json:"priority"` // -1 unset
	Writable                bool          `json:"writable,omitempty"`
	FlushPending            bool          `json:"flush_pending,omitempty"`
	MessageQueueMaxMessages int64         `json:"message_queue_max_messages,omitempty"`
	MessageQueueMessageSize int64         `json:"message_queue_message_size,omitempty"`
	TriggerLimitIntervalSec time.Duration `json:"trigger_limit_interval_sec"` // default 2s
	TriggerLimitBurst       int           `json:"trigger_limit_burst"`        // default 20 (200 with Accept=yes)
	TimeoutSec              time.Duration `json:"timeout_sec"`                // default 90s

	ExecStartPre  []ExecCommand `json:"exec_start_pre,omitempty"`
	ExecStartPost []ExecCommand `json:"exec_start_post,omitempty"`
	ExecStopPre   []ExecCommand `json:"exec_stop_pre,omitempty"`
	ExecStopPost  []ExecCommand `json:"exec_stop_post,omitempty"`

	Exec      ExecContext     `json:"exec"`
	Kill      KillContext     `json:"kill"`
	Resources ResourceControl `json:"resources"`
}

// Timer is [Timer] (systemd.timer(5)).
type Timer struct {
	// Values are the OnActiveSec=, OnBootSec=, OnStartupSec=,
	// OnUnitActiveSec=, OnUnitInactiveSec= and OnCalendar= settings in
	// order; an empty assignment to any of them resets all (systemd).
	Values             []TimerValue  `json:"values"`
	AccuracySec        time.Duration `json:"accuracy_sec"` // default 1min
	RandomizedDelaySec time.Duration `json:"randomized_delay_sec,omitempty"`
	FixedRandomDelay   bool          `json:"fixed_random_delay,omitempty"`
	Persistent         bool          `json:"persistent,omitempty"`
	WakeSystem         bool          `json:"wake_system,omitempty"` // accepted, not enforced
	RemainAfterElapse  bool          `json:"remain_after_elapse"`   // default true
	Unit               string        `json:"unit"`                  // default: same name .service
}

// TimerValue is one trigger of a timer: Base is the setting's name
// (OnBootSec, ..., OnCalendar); Span is set for the monotonic ones,
// Calendar for OnCalendar=.
type TimerValue struct {
	Base     string        `json:"base"`
	Span     time.Duration `json:"span,omitempty"`
	Calendar *CalendarSpec `json:"calendar,omitempty"`
	Pos      Pos           `json:"pos"`
}

// Path is [Path] (systemd.path(5)).
type Path struct {
	// Specs are the PathExists=, PathExistsGlob=, PathChanged=,
	// PathModified= and DirectoryNotEmpty= settings in order; an empty
	// assignment to any of them resets all.
	Specs                   []PathSpec    `json:"specs"`
	Unit                    string        `json:"unit"` // default: same name .service
	MakeDirectory           bool          `json:"make_directory,omitempty"`
	DirectoryMode           uint32        `json:"directory_mode"`             // default 0755
	TriggerLimitIntervalSec time.Duration `json:"trigger_limit_interval_sec"` // default 2s
	TriggerLimitBurst       int           `json:"trigger_limit_burst"`        // default 200
}

// PathSpec is one watched path: Kind is the setting's name (PathExists,
// PathExistsGlob, PathChanged, PathModified, DirectoryNotEmpty).
type PathSpec struct {
	Kind string `json:"kind"`
	Path string `json:"path"`
	Pos  Pos    `json:"pos"`
}

// Mount is [Mount] (systemd.mount(5)).
type Mount struct {
	What          string        `json:"what"`
	Where         string        `json:"where"` // the unit's name unescaped
	Type          string        `json:"type,omitempty"`
	Options       string        `json:"options,omitempty"`
	SloppyOptions bool          `json:"sloppy_options,omitempty"`
	LazyUnmount   bool          `json:"lazy_unmount,omitempty"`
	ReadWriteOnly bool          `json:"read_write_only,omitempty"`
	ForceUnmount  bool          `json:"force_unmount,omitempty"`
	DirectoryMode uint32        `json:"directory_mode"` // default 0755
	TimeoutSec    time.Duration `json:"timeout_sec"`    // default 90s
	// Exec and Kill are what mount(8) and umount(8) run under.
	Exec ExecContext `json:"exec"`
	Kill KillContext `json:"kill"`
}

// Automount is [Automount] (systemd.automount(5)).
type Automount struct {
	Where string `json:"where"` // the unit's name unescaped
	// ExtraOptions are added to the autofs mount's own options.
	ExtraOptions  string        `json:"extra_options,omitempty"`
	DirectoryMode uint32        `json:"directory_mode"`             // default 0755
	TimeoutIdle   time.Duration `json:"timeout_idle_sec,omitempty"` // 0: never expire
}

// Swap is [Swap] (systemd.swap(5)).
type Swap struct {
	What       string        `json:"what"` // the unit's name unescaped
	Priority   *int          `json:"priority,omitempty"`
	Options    string        `json:"options,omitempty"`
	TimeoutSec time.Duration `json:"timeout_sec"` // default 90s
	// Exec and Kill are what swapon(8) and swapoff(8) run under.
	Exec ExecContext `json:"exec"`
	Kill KillContext `json:"kill"`
}
