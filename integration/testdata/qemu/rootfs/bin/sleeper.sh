#!/bin/sh
# A long-running service that says so when it is stopped.
trap 'echo "SLEEPER-STOPPED" > /dev/console; exit 0' TERM
echo "SLEEPER-STARTED" > /dev/console
while :; do sleep 1; done
