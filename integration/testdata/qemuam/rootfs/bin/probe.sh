#!/bin/sh
# Reports, from a process outside gosd's process group (so autofs holds
# it), how /data (and /auto, from /etc/fstab) behaves: the autofs point waiting, a first access that
# mounts the tmpfs through data.mount, the idle expiry that unmounts it,
# and a second access that mounts it again. Then asks PID1 to power off.
exec >/dev/console 2>&1
state() { gosdctl show -p ActiveState,SubState --value "$1" | tr '\n' ' '; }
fstype() { grep " /data " /proc/self/mountinfo | sed 's/.* - \([^ ]*\) .*/\1/' | tr '\n' ' '; }
echo "PROBE before automount=[$(state data.automount)] mount=[$(state data.mount)] fs=[$(fstype)]"
echo hello > /data/hello
echo "PROBE write rc=$? content=$(cat /data/hello)"
echo "PROBE after automount=[$(state data.automount)] mount=[$(state data.mount)] fs=[$(fstype)]"
# TimeoutIdleSec=2s: gosd asks the kernel every second; nothing touches
# /data meanwhile.
i=0
while [ $i -lt 200 ]; do
	[ "$(gosdctl show -p ActiveState --value data.mount)" = inactive ] && break
	sleep 0.1
	i=$((i+1))
done
echo "PROBE expired after $i polls automount=[$(state data.automount)] mount=[$(state data.mount)] fs=[$(fstype)]"
ls /data >/dev/null
echo "PROBE again ls rc=$? automount=[$(state data.automount)] mount=[$(state data.mount)] hello=$(cat /data/hello 2>/dev/null || echo gone)"
# /auto comes from /etc/fstab (x-systemd.automount): local-fs.target
# pulls in the automount unit, not the mount.
echo "PROBE fstab automount=[$(state auto.automount)] source=$(gosdctl show -p SourcePath --value auto.automount) mount=[$(state auto.mount)]"
ls /auto >/dev/null
echo "PROBE fstab ls rc=$? automount=[$(state auto.automount)] mount=[$(state auto.mount)] fs=[$(grep " /auto " /proc/self/mountinfo | sed 's/.* - \([^ ]*\) .*/\1/' | tr '\n' ' ')]"
echo "PROBE-END"
kill -38 1
