package unitfile

// ExpandArgv expands $VAR and ${VAR} in an Exec*= command line the way
// systemd.service(5) "COMMAND LINES" says, given the final environment
// (KEY=VALUE). With cmd.NoEnvExpand (":" prefix) the words are used as
// they are. The result is argv (Argv[0] first).
//
// STUB: replaced by the typed-settings work.
func ExpandArgv(cmd ExecCommand, env []string) []string {
	return append([]string(nil), cmd.Argv...)
}

// ParseEnvironmentFile parses the contents of an EnvironmentFile=
// (systemd.exec(5)): KEY=VALUE lines, comments, quoting, continuation.
//
// STUB: replaced by the typed-settings work.
func ParseEnvironmentFile(data []byte) ([]string, error) {
	return nil, nil
}
