#!/bin/sh
# up.sh NAME CMD [ARGS...]: asserts finit's user condition <usr/NAME>,
# then becomes CMD: the service counts as up once it was started.
/bin/sh /bin/cond.sh "$1"
shift
exec "$@"
