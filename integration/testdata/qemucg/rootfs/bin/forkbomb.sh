#!/bin/sh
# Runs under TasksMax=10. Only shell builtins after the bomb: no fork is
# needed to read the cgroup files.
exec >/dev/console 2>&1
read line </proc/self/cgroup
d=/sys/fs/cgroup${line#0::}
read max <$d/pids.max
echo "FORK cgroup=${line#0::} pids.max=$max"
# The inner shell forks sleeps until fork fails (ash then exits with
# "can't fork"); the sleeps stay in the cgroup.
sh -c 'n=0; while [ $n -lt 30 ]; do sleep 60 & n=$((n+1)); echo "FORK started $n"; done; echo "FORK-NO-LIMIT"'
read cur <$d/pids.current
while read k v; do [ "$k" = max ] && events=$v; done <$d/pids.events
echo "FORK-RESULT pids.current=$cur pids.events.max=$events"
