//go:build !linux

package exec

import "errors"

type privateRoot struct {
	Root  string
	Names []string
}

func mountPrivateDirs(roots []privateRoot) error {
	if len(roots) == 0 {
		return nil
	}
	return errors.New("DynamicUser= with StateDirectory=, CacheDirectory= or LogsDirectory= needs Linux mount namespaces")
}
