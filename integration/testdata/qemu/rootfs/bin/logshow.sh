#!/bin/sh
# The first boot's log, as journalctl (the gosd binary under that name) and
# gosdctl read it, on the console; then power off.
{
	echo "LOGSHOW-BEGIN"
	journalctl -u logdemo -u logkmsg -o short-iso --no-pager
	echo "LOGSHOW-GOSDCTL"
	gosdctl logs -u logdemo -n 20 -o json
	echo "LOGSHOW-KERNEL"
	journalctl -k -o short-monotonic | grep -m1 "Linux version"
	echo "LOGSHOW-END"
} > /dev/console 2>&1
kill -38 1
