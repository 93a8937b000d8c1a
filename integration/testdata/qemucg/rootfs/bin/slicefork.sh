#!/bin/sh
# Runs in lim.slice, which has TasksMax=5; the service sets no limit of
# its own. Only shell builtins after the fork loop.
exec >/dev/console 2>&1
read line </proc/self/cgroup
d=/sys/fs/cgroup${line#0::}
s=${d%/*}
read max <$s/pids.max
read mem <$s/memory.max
read w <$s/cpu.weight
read own <$d/pids.max
echo "SLICE cgroup=${s#/sys/fs/cgroup} pids.max=$max memory.max=$mem cpu.weight=$w member.pids.max=$own"
sh -c 'n=0; while [ $n -lt 20 ]; do sleep 60 & n=$((n+1)); echo "SLICEFORK started $n"; done; echo "SLICEFORK-NO-LIMIT"'
read cur <$s/pids.current
echo "SLICEFORK-RESULT pids.current=$cur"
