#!/bin/sh
# A line on stdout, and one through syslog(3): busybox logger reading its
# standard input, as a daemon's output piped to logger is.
echo "STDOUT-LINE boot1"
{ echo "SYSLOG-LINE boot1"; sleep 2; } | logger -t logdemo
echo "LOGDEMO-DONE" > /dev/console
exec sleep 3600
