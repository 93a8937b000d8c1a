package reactor

import "errors"

func becomeSubreaper() error { return errors.New("darwin has no subreaper") }
