#!/bin/sh
# step.sh NAME SCRIPT [ARGS...]: runs SCRIPT, then asserts finit's user
# condition <usr/NAME> when it succeeded, so that a task waiting for it
# starts only after SCRIPT finished (a oneshot's After= in systemd terms).
name=$1
shift
/bin/sh "$@" || exit
exec /bin/sh /bin/cond.sh "$name"
