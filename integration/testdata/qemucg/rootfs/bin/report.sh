#!/bin/sh
# Waits for memhog.service to fail, then prints what gosd ctl says about
# the units and what the kernel's cgroup files hold; then asks PID1 to
# power off (SIGRTMIN+4).
exec >/dev/console 2>&1
i=0
while [ $i -lt 300 ]; do
	s=$(gosdctl show -p ActiveState --value memhog.service)
	[ "$s" = failed ] && break
	sleep 0.1
	i=$((i+1))
done
echo "REPORT memhog after $i polls"
gosdctl show -p Result,ActiveState memhog.service | sed 's/^/REPORT memhog /'
# holder prints HOLDER ready once it holds its memory.
i=0
while [ $i -lt 100 ]; do
	[ "$(gosdctl show -p ActiveState --value holder.service)" = active ] && [ -e /run/holder-ready ] && break
	sleep 0.1
	i=$((i+1))
done
cg=$(gosdctl show -p ControlGroup --value holder.service)
echo "REPORT holder cgroup=$cg"
for f in memory.max memory.high pids.max cpu.weight memory.current pids.current; do
	echo "REPORT holder $f=$(cat /sys/fs/cgroup$cg/$f)"
done
echo "REPORT root subtree_control=$(cat /sys/fs/cgroup/cgroup.subtree_control)"
echo "REPORT-STATUS-BEGIN"
gosdctl status holder.service
echo "REPORT-STATUS-END"
gosdctl status memhog.service
echo "REPORT-SLICE-BEGIN"
gosdctl status lim.slice
echo "REPORT-SLICE-END"
echo "REPORT-END"
kill -38 1
