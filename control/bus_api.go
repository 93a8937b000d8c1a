//go:build linux || freebsd

package control

import (
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"gosd/internal/dbus"
	"gosd/manager"
	"gosd/unitfile"
)

// The objects served, as systemd names them (org.freedesktop.systemd1(5)).
const (
	busManagerPath = "/org/freedesktop/systemd1"
	busUnitPrefix  = busManagerPath + "/unit/"

	ifaceManager        = "org.freedesktop.systemd1.Manager"
	ifaceUnit           = "org.freedesktop.systemd1.Unit"
	ifaceService        = "org.freedesktop.systemd1.Service"
	ifaceSocket         = "org.freedesktop.systemd1.Socket"
	ifaceTimer          = "org.freedesktop.systemd1.Timer"
	ifaceDevice         = "org.freedesktop.systemd1.Device"
	ifaceSlice          = "org.freedesktop.systemd1.Slice"
	ifaceProperties     = "org.freedesktop.DBus.Properties"
	ifacePeer           = "org.freedesktop.DBus.Peer"
	ifaceIntrospectable = "org.freedesktop.DBus.Introspectable"
	ifaceDBus           = "org.freedesktop.DBus"
)

// busProp is one property: its name and D-Bus type.
type busProp struct{ name, sig string }

// busMethod is one method, for Introspect: its argument signatures.
type busMethod struct{ name, in, out string }

// busIface describes an interface of ours. Properties are listed in the
// order GetAll returns them; their values come from a snapshot taken on
// the reactor (managerValues, unitValues).
type busIface struct {
	name    string
	methods []busMethod
	props   []busProp
	signals []busMethod // name and argument signature (in)
}

var managerIface = busIface{name: ifaceManager,
	methods: []busMethod{
		{"GetUnit", "s", "o"}, {"LoadUnit", "s", "o"}, {"GetUnitByPID", "u", "o"},
		{"ListUnits", "", "a(ssssssouso)"},
		{"StartUnit", "ss", "o"}, {"StopUnit", "ss", "o"}, {"RestartUnit", "ss", "o"},
		{"TryRestartUnit", "ss", "o"}, {"ReloadUnit", "ss", "o"}, {"ReloadOrRestartUnit", "ss", "o"},
		{"Subscribe", "", ""}, {"Unsubscribe", "", ""},
	},
	signals: []busMethod{{"JobRemoved", "uoss", ""}},
	props:   busProps(managerProps),
}

var unitIface = busIface{name: ifaceUnit, props: busProps(unitProps)}

func init() { managerIface.methods = append(managerIface.methods, busManagerMethods...) }

// typeIfaces are the type-specific interfaces, by name.
var typeIfaces = map[string]busIface{
	ifaceService: {name: ifaceService, props: busProps(serviceProps)},
	ifaceSocket:  {name: ifaceSocket, props: busProps(socketProps)},
	ifaceTimer:   {name: ifaceTimer, props: busProps(timerProps)},
	ifaceDevice:  {name: ifaceDevice, props: busProps(deviceProps)},
	ifaceSlice:   {name: ifaceSlice, props: busProps(sliceProps)},
}

// busProps is a property table's names and types.
func busProps(table []prop) []busProp {
	out := make([]busProp, len(table))
	for i, p := range table {
		out[i] = busProp{p.name, p.sig}
	}
	return out
}

// The standard interfaces every object has, for Introspect.
var standardIfaces = []busIface{
	{name: ifacePeer, methods: []busMethod{{"Ping", "", ""}, {"GetMachineId", "", "s"}}},
	{name: ifaceIntrospectable, methods: []busMethod{{"Introspect", "", "s"}}},
	{name: ifaceProperties, methods: []busMethod{
		{"Get", "ss", "v"}, {"GetAll", "s", "a{sv}"}, {"Set", "ssv", ""}},
		signals: []busMethod{{"PropertiesChanged", "sa{sv}as", ""}}},
}

// busObject is what a path names: the manager, a unit (name set), or an
// inner node of the tree (only introspectable).
type busObject struct {
	manager bool
	unit    string
	node    []string // child node names, for inner nodes
}

func (o busObject) ifaces() []busIface {
	switch {
	case o.manager:
		return []busIface{managerIface}
	case o.unit != "":
		// The type's interface first, as systemd's GetAll("") answers.
		if name, _ := unitTypeProps(o.unit); name != "" {
			return []busIface{typeIfaces[name], unitIface}
		}
		return []busIface{unitIface}
	}
	return nil
}

// object resolves a path; ok=false: no such object.
func lookupObject(path dbus.ObjectPath) (busObject, bool) {
	switch p := string(path); {
	case p == busManagerPath:
		return busObject{manager: true, node: []string{"unit"}}, true
	case p == "/":
		return busObject{node: []string{"org"}}, true
	case p == "/org":
		return busObject{node: []string{"freedesktop"}}, true
	case p == "/org/freedesktop":
		return busObject{node: []string{"systemd1"}}, true
	case p == busManagerPath+"/unit":
		return busObject{}, true
	case strings.HasPrefix(p, busUnitPrefix):
		name, ok := busUnescape(p[len(busUnitPrefix):])
		if !ok || !validUnitName(name) {
			return busObject{}, false
		}
		return busObject{unit: name}, true
	}
	return busObject{}, false
}

// validUnitName: a name with a known unit suffix and no path separators
// or control bytes (what a unit path may carry).
func validUnitName(name string) bool {
	dot := strings.LastIndexByte(name, '.')
	if dot <= 0 || len(name) > 255 {
		return false
	}
	switch name[dot+1:] {
	case "service", "socket", "target", "device", "mount", "automount", "swap", "timer", "path", "slice", "scope":
	default:
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] < 0x20 || name[i] == '/' || name[i] >= 0x7f {
			return false
		}
	}
	return true
}

// busEscape is systemd's bus path escaping (sd_bus_path_encode): every
// byte that is not [A-Za-z0-9] becomes _XX in lowercase hex, as does a
// leading digit; the empty string is "_".
func busEscape(s string) string {
	if s == "" {
		return "_"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || (c >= '0' && c <= '9' && i > 0) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('_')
		b.WriteString(strconv.FormatUint(uint64(c)>>4, 16))
		b.WriteString(strconv.FormatUint(uint64(c)&15, 16))
	}
	return b.String()
}

// busUnescape reverses busEscape; ok=false on a malformed escape.
func busUnescape(s string) (string, bool) {
	if s == "_" {
		return "", true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '_' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), true
}

// unitPath is a unit's object path.
func unitPath(name string) dbus.ObjectPath {
	return dbus.ObjectPath(busUnitPrefix + busEscape(name))
}

// call dispatches one method call and returns the reply's signature and
// body, or an error (a *busError names the D-Bus error).
func (c *busConn) call(m *dbus.Message) (string, []any, error) {
	if m.Interface == ifaceDBus {
		return c.callBus(m)
	}
	obj, ok := lookupObject(m.Path)
	if !ok {
		return "", nil, busErrorf(errUnknownObject, "Unknown object '%s'.", m.Path)
	}
	switch m.Interface {
	case ifacePeer:
		return c.callPeer(m)
	case ifaceIntrospectable:
		if m.Member != "Introspect" {
			return "", nil, unknownMethod(m)
		}
		return c.introspect(obj)
	case ifaceProperties:
		return c.callProperties(m, obj)
	case ifaceManager:
		if !obj.manager {
			return "", nil, busErrorf(errUnknownInterface, "Unknown interface %s.", m.Interface)
		}
		return c.callManager(m)
	case ifaceUnit, ifaceService, ifaceSocket, ifaceTimer, ifaceDevice, ifaceSlice:
		if obj.unit == "" {
			return "", nil, busErrorf(errUnknownInterface, "Unknown interface %s.", m.Interface)
		}
		return "", nil, unknownMethod(m) // no unit methods are served
	case "":
		// No interface: the member decides, as sd-bus does.
		switch m.Member {
		case "Ping", "GetMachineId":
			return c.callPeer(m)
		case "Introspect":
			return c.introspect(obj)
		case "Get", "GetAll", "Set":
			return c.callProperties(m, obj)
		}
		if obj.manager {
			return c.callManager(m)
		}
		return "", nil, unknownMethod(m)
	}
	return "", nil, busErrorf(errUnknownInterface, "Unknown interface %s.", m.Interface)
}

func unknownMethod(m *dbus.Message) error {
	return busErrorf(errUnknownMethod, "Unknown method %s or interface %s.", m.Member, m.Interface)
}

// args checks the call's signature.
func args(m *dbus.Message, sig string) error {
	if string(m.Signature) != sig {
		return busErrorf(errInvalidArgs, "Invalid arguments '%s' to call %s.%s(), expecting '%s'.",
			m.Signature, m.Interface, m.Member, sig)
	}
	return nil
}

// callBus answers the few bus-daemon methods clients that assume a bus
// send first (busctl --address, sd-bus as a bus client).
func (c *busConn) callBus(m *dbus.Message) (string, []any, error) {
	switch m.Member {
	case "Hello":
		if c.uniqueName() == "" {
			name := ":1." + strconv.FormatUint(c.srv.clients.Add(1), 10)
			c.name.Store(&name)
		}
		return "s", []any{c.uniqueName()}, nil
	case "AddMatch", "RemoveMatch":
		if err := args(m, "s"); err != nil {
			return "", nil, err
		}
		return "", nil, nil
	case "GetId":
		return "s", []any{c.srv.guid}, nil
	}
	return "", nil, unknownMethod(m)
}

func (c *busConn) callPeer(m *dbus.Message) (string, []any, error) {
	switch m.Member {
	case "Ping":
		return "", nil, nil
	case "GetMachineId":
		data, err := os.ReadFile("/etc/machine-id")
		id := strings.TrimSpace(string(data))
		if err != nil || len(id) != 32 {
			return "", nil, busErrorf(errFailed, "no machine id in /etc/machine-id")
		}
		return "s", []any{id}, nil
	}
	return "", nil, unknownMethod(m)
}

// callProperties serves Get, GetAll and Set (every property is
// read-only).
func (c *busConn) callProperties(m *dbus.Message, obj busObject) (string, []any, error) {
	var iface, prop string
	switch m.Member {
	case "Get":
		if err := args(m, "ss"); err != nil {
			return "", nil, err
		}
		iface, prop = m.Body[0].(string), m.Body[1].(string)
	case "GetAll":
		if err := args(m, "s"); err != nil {
			return "", nil, err
		}
		iface = m.Body[0].(string)
	case "Set":
		if err := args(m, "ssv"); err != nil {
			return "", nil, err
		}
		return "", nil, busErrorf(errPropertyReadOnly, "Property '%s' is not writable.", m.Body[1])
	default:
		return "", nil, unknownMethod(m)
	}
	vals, err := c.values(obj)
	if err != nil {
		return "", nil, err
	}
	var ifaces []busIface
	for _, f := range obj.ifaces() {
		if iface == "" || f.name == iface {
			ifaces = append(ifaces, f)
		}
	}
	if len(ifaces) == 0 {
		switch iface {
		case ifacePeer, ifaceIntrospectable, ifaceProperties:
			if m.Member == "GetAll" {
				return "a{sv}", []any{[]dbus.DictEntry{}}, nil
			}
		default:
			return "", nil, busErrorf(errUnknownInterface, "Unknown interface %s.", iface)
		}
	}
	if m.Member == "Get" {
		for _, f := range ifaces {
			for _, p := range f.props {
				if p.name == prop {
					return "v", []any{dbus.Variant{Sig: dbus.Signature(p.sig), Value: vals[p.name]}}, nil
				}
			}
		}
		return "", nil, busErrorf(errUnknownProperty, "Unknown property '%s'.", prop)
	}
	all := []dbus.DictEntry{}
	for _, f := range ifaces {
		for _, p := range f.props {
			all = append(all, dbus.DictEntry{Key: p.name, Value: dbus.Variant{Sig: dbus.Signature(p.sig), Value: vals[p.name]}})
		}
	}
	return "a{sv}", []any{all}, nil
}

// values takes the snapshot of an object's properties on the reactor,
// then reads what comes from the unit files off it.
func (c *busConn) values(obj busObject) (map[string]any, error) {
	var vals map[string]any
	if !obj.manager && obj.unit == "" {
		return nil, nil
	}
	var in fileInputs
	var paths []string
	err := c.onReactor(func() {
		clk := c.srv.clock()
		if obj.manager {
			vals = managerValues(c.srv.b, clk)
			return
		}
		b := c.srv.b
		var found bool
		vals, _, found = unitPropValues(b, clk, obj.unit, reverseDeps(b))
		in, paths = fileInputsOf(b, obj.unit, found), b.UnitPaths()
	})
	if err == nil && !obj.manager {
		fileProps(vals, NewUnitFileSet("", paths), in)
	}
	return vals, err
}

// busClock converts the backend's clock (UnitStatus times) to systemd's
// µs timestamps: CLOCK_MONOTONIC and CLOCK_REALTIME. Taken on the reactor
// at request time.
type busClock struct {
	toMono time.Duration // backend clock + toMono = CLOCK_MONOTONIC
	toReal time.Duration // CLOCK_MONOTONIC + toReal = CLOCK_REALTIME
}

func (s *BusServer) clock() busClock {
	// The backend's clock is CLOCK_MONOTONIC less a fixed origin: measure
	// the difference once, so that every answer uses the same one.
	s.toMonoOnce.Do(func() { s.toMono = measureClock(s.opts.now).toMono })
	c := measureClock(nil)
	c.toMono = s.toMono
	return c
}

// measureClock reads the clocks: CLOCK_REALTIME against CLOCK_MONOTONIC,
// and (now given) the backend's clock against CLOCK_MONOTONIC, as the
// midpoint of two monotonic reads around the backend's, in whole µs as
// systemd's timestamps are.
func measureClock(now func() time.Duration) busClock {
	var c busClock
	if now != nil {
		// A preempted read widens the window and moves the midpoint: keep
		// the narrowest of a few windows (a loaded machine was off by 1 µs).
		best := time.Duration(-1)
		for i := 0; i < 5 && best != 0; i++ {
			m1 := monotonicNow()
			n := now()
			m2 := monotonicNow()
			if best < 0 || m2-m1 < best {
				best = m2 - m1
				c.toMono = ((m1+m2)/2 - n).Round(time.Microsecond)
			}
		}
	}
	mono := monotonicNow()
	var rt unix.Timespec
	unix.ClockGettime(unix.CLOCK_REALTIME, &rt)
	c.toReal = time.Duration(rt.Nano()) - mono
	return c
}

func usecs(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64(d / time.Microsecond)
}

// stamp sets name (realtime) and nameMonotonic from a monotonic instant;
// 0 (never) stays 0 in both.
func stamp(vals map[string]any, name string, mono time.Duration, clk busClock, set bool) {
	if !set {
		vals[name], vals[name+"Monotonic"] = uint64(0), uint64(0)
		return
	}
	vals[name], vals[name+"Monotonic"] = usecs(mono+clk.toReal), usecs(mono)
}

// managerValues is the Manager's properties. On the reactor.
func managerValues(b Backend, clk busClock) map[string]any {
	bt := b.Boot()
	state, jobs, failed := systemState(b)
	env := []string{}
	if e, ok := b.(Environmenter); ok {
		env = append(env, e.Environment()...)
	}
	v := map[string]any{
		"Version": "gosd", "Features": "", "Tainted": "", "Architecture": unitfile.Architecture(),
		"Virtualization": "", "SystemState": state, "Environment": env,
		"NNames": uint32(len(b.List())), "NFailedUnits": uint32(failed), "NJobs": uint32(jobs),
	}
	// The kernel's boot is CLOCK_MONOTONIC's zero; known only when gosd
	// is the machine's PID1 (a container's manager reports none, as
	// systemd does).
	stamp(v, "KernelTimestamp", 0, clk, false)
	if bt.Kernel {
		v["KernelTimestamp"] = usecs(clk.toReal)
	}
	stamp(v, "UserspaceTimestamp", bt.StartMonotonic, clk, bt.StartMonotonic > 0)
	stamp(v, "FinishTimestamp", bt.Finish+clk.toMono, clk, bt.Finish > 0)
	return v
}

// callManager serves the Manager's methods.
func (c *busConn) callManager(m *dbus.Message) (string, []any, error) {
	switch m.Member {
	case "GetUnit", "LoadUnit":
		if err := args(m, "s"); err != nil {
			return "", nil, err
		}
		name := m.Body[0].(string)
		if !validUnitName(name) {
			return "", nil, busErrorf(errInvalidArgs, "Unit name %s is not valid.", name)
		}
		var found bool
		err := c.onReactor(func() {
			st, ok := c.srv.b.Status(name)
			found = ok && st.LoadState != "not-found"
		})
		if err != nil {
			return "", nil, err
		}
		if !found && m.Member == "GetUnit" {
			return "", nil, busErrorf(errNoSuchUnit, "Unit %s not loaded.", name)
		}
		return "o", []any{unitPath(name)}, nil
	case "GetUnitByPID":
		if err := args(m, "u"); err != nil {
			return "", nil, err
		}
		pid := int(m.Body[0].(uint32))
		var name string
		err := c.onReactor(func() {
			for _, st := range c.srv.b.List() {
				if pid > 0 && (st.MainPID == pid || st.ControlPID == pid) {
					name = st.Name
					return
				}
			}
		})
		if err != nil {
			return "", nil, err
		}
		if name == "" {
			return "", nil, busErrorf(errNoUnitForPID, "PID %d does not belong to any loaded unit.", pid)
		}
		return "o", []any{unitPath(name)}, nil
	case "ListUnits":
		if err := args(m, ""); err != nil {
			return "", nil, err
		}
		var list []manager.UnitStatus
		if err := c.onReactor(func() { list = c.srv.b.List() }); err != nil {
			return "", nil, err
		}
		rows := make([]dbus.Struct, 0, len(list))
		for _, st := range list {
			rows = append(rows, unitRow(st))
		}
		return "a(ssssssouso)", []any{rows}, nil
	case "StartUnit", "StopUnit", "RestartUnit", "TryRestartUnit", "ReloadUnit", "ReloadOrRestartUnit":
		return c.enqueue(m)
	case "Subscribe", "Unsubscribe":
		if err := args(m, ""); err != nil {
			return "", nil, err
		}
		// Direct connections get every signal, subscribed or not,
		// as under systemd: both are accepted and change nothing.
		return "", nil, nil
	}
	if sig, body, err, ok := c.callManagerMore(m); ok {
		return sig, body, err
	}
	return "", nil, unknownMethod(m)
}

// busJobKinds maps the job methods to the manager's job kinds.
var busJobKinds = map[string]manager.JobKind{
	"StartUnit": manager.JobStart, "StopUnit": manager.JobStop, "RestartUnit": manager.JobRestart,
	"TryRestartUnit": manager.JobTryRestart, "ReloadUnit": manager.JobReload,
	"ReloadOrRestartUnit": manager.JobReloadOrRestart,
}

// enqueue serves StartUnit and its kin: the reply (the job's path) is
// sent on the reactor before the job is submitted, so a subscriber sees
// it before the job's JobRemoved signal. Job objects themselves are not
// served.
func (c *busConn) enqueue(m *dbus.Message) (string, []any, error) {
	if err := args(m, "ss"); err != nil {
		return "", nil, err
	}
	name, mode := m.Body[0].(string), manager.JobMode(m.Body[1].(string))
	if !validUnitName(name) {
		return "", nil, busErrorf(errInvalidArgs, "Unit name %s is not valid.", name)
	}
	if action := shutdownTargets[name]; action != "" && m.Member == "StartUnit" {
		// systemctl poweroff/reboot/halt/exit start these targets
		// (replace-irreversibly): gosd's orderly shutdown is that job.
		return c.powerJob(m, name, action)
	}
	switch mode {
	case manager.ModeReplace, manager.ModeFail, manager.ModeIsolate,
		manager.ModeIgnoreDependencies, manager.ModeIgnoreRequirements:
	default:
		return "", nil, busErrorf(errInvalidArgs, "Job mode %s is not supported.", mode)
	}
	s := c.srv
	var reply error = errReplied
	err := c.onReactor(func() {
		if st, ok := s.b.Status(name); !ok || st.LoadState == "not-found" {
			reply = busErrorf(errNoSuchUnit, "Unit %s not found.", name)
			return
		}
		id := s.jobs.Add(1)
		path := dbus.ObjectPath(busManagerPath + "/job/" + strconv.FormatUint(uint64(id), 10))
		c.reply(m, "o", []any{path}, nil)
		s.b.Enqueue(name, busJobKinds[m.Member], mode, func(r manager.JobResult) {
			s.signal(&dbus.Message{Type: dbus.TypeSignal, Path: busManagerPath, Interface: ifaceManager,
				Member: "JobRemoved", Signature: "uoss", Body: []any{id, path, name, string(r)}})
		})
	})
	if err != nil {
		return "", nil, err
	}
	return "", nil, reply
}

// introspect returns the object's description (the
// org.freedesktop.DBus.Introspectable format).
func (c *busConn) introspect(obj busObject) (string, []any, error) {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"` + "\n" +
		`"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">` + "\n<node>\n")
	ifaces := obj.ifaces()
	if obj.manager || obj.unit != "" {
		ifaces = append(append([]busIface{}, standardIfaces...), ifaces...)
	}
	for _, f := range ifaces {
		b.WriteString(` <interface name="` + f.name + `">` + "\n")
		for _, m := range f.methods {
			b.WriteString(`  <method name="` + m.name + `">` + "\n")
			writeArgs(&b, m.in, "in")
			writeArgs(&b, m.out, "out")
			b.WriteString("  </method>\n")
		}
		for _, s := range f.signals {
			b.WriteString(`  <signal name="` + s.name + `">` + "\n")
			writeArgs(&b, s.in, "")
			b.WriteString("  </signal>\n")
		}
		for _, p := range f.props {
			// No PropertiesChanged signals are sent: say so, or clients
			// would wait for them.
			b.WriteString(`  <property name="` + p.name + `" type="` + p.sig + `" access="read">` + "\n" +
				`   <annotation name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="false"/>` + "\n  </property>\n")
		}
		b.WriteString(" </interface>\n")
	}
	for _, n := range obj.node {
		b.WriteString(` <node name="` + n + `"/>` + "\n")
	}
	b.WriteString("</node>\n")
	return "s", []any{b.String()}, nil
}

// writeArgs writes one <arg> per complete type of sig.
func writeArgs(b *strings.Builder, sig, dir string) {
	for sig != "" {
		n := completeTypeLen(sig)
		b.WriteString(`   <arg type="` + sig[:n] + `"`)
		if dir != "" {
			b.WriteString(` direction="` + dir + `"`)
		}
		b.WriteString("/>\n")
		sig = sig[n:]
	}
}

// completeTypeLen is the length of the first complete type of a valid
// signature (our own tables only).
func completeTypeLen(sig string) int {
	depth := 0
	for i := 0; i < len(sig); i++ {
		switch sig[i] {
		case 'a':
			continue
		case '(', '{':
			depth++
		case ')', '}':
			depth--
		}
		if depth == 0 {
			return i + 1
		}
	}
	return len(sig)
}
