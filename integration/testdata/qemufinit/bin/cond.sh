#!/bin/sh
# cond.sh NAME: asserts <usr/NAME> and makes finit look at it. `initctl
# cond set` only adds a symlink under /run/finit/cond/usr/; finit notices
# through the usr plugin's inotify watch, which Debian's package lacks, so
# without a nudge a waiting task starts only if some other event happens
# to make finit step its services. `initctl reload` is that nudge: it
# steps them all, and user conditions survive it (they follow the reload
# generation, unlike pid/ conditions, which go into flux).
initctl -b cond set "$1" || exit
initctl -b reload
