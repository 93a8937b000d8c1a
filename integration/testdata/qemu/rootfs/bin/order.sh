#!/bin/sh
# order.sh NAME [DELAY]: prints "ORDER NAME" on the console after an
# optional delay. The first of a chain waits, so that the console shows
# the After= order only if the manager waited for it.
[ -n "$2" ] && sleep "$2"
echo "ORDER $1" > /dev/console
