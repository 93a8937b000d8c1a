#!/bin/sh
# Asks PID1 for an orderly power-off, a little after the target is reached.
# For gosd: SIGRTMIN+4, which is 38 with glibc's SIGRTMIN (34), as systemd
# and `kill -s SIGRTMIN+4` number it. For busybox init (the reference):
# SIGUSR2, its power-off signal, given as the argument.
sleep 2
echo "TRIGGER poweroff" > /dev/console
kill "${1:--38}" 1
