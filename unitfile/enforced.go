package unitfile

// NotEnforced lists the settings of u that gosd accepts but does not
// apply, in file order per section: `gosd verify` names each of them, and
// a unit with none runs with every setting it declares enforced.
func (u *Unit) NotEnforced() []Entry {
	out := append([]Entry(nil), u.Unit.Unenforced...)
	if u.Service != nil {
		out = append(out, u.Service.Exec.Unenforced...)
	}
	if u.Socket != nil {
		out = append(out, u.Socket.Exec.Unenforced...)
	}
	if u.Mount != nil {
		out = append(out, u.Mount.Exec.Unenforced...)
	}
	if u.Swap != nil {
		out = append(out, u.Swap.Exec.Unenforced...)
	}
	return out
}
