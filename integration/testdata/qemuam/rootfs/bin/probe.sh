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
# waitexpiry waits until data.mount has expired and says how long it took
# (its argument, if any, names the step).
waitexpiry() {
	i=0
	while [ $i -lt 200 ]; do
		[ "$(gosdctl show -p ActiveState --value data.mount)" = inactive ] && break
		sleep 0.1
		i=$((i+1))
	done
	echo "PROBE ${1:+$1 }expired after $i polls automount=[$(state data.automount)] mount=[$(state data.mount)] fs=[$(fstype)]"
}
# TimeoutIdleSec=2s: gosd asks the kernel every second; nothing touches
# /data meanwhile.
waitexpiry
ls /data >/dev/null
echo "PROBE again ls rc=$? automount=[$(state data.automount)] mount=[$(state data.mount)] hello=$(cat /data/hello 2>/dev/null || echo gone)"
# /auto comes from /etc/fstab (x-systemd.automount): local-fs.target
# pulls in the automount unit, not the mount.
echo "PROBE fstab automount=[$(state auto.automount)] source=$(gosdctl show -p SourcePath --value auto.automount) mount=[$(state auto.mount)]"
ls /auto >/dev/null
echo "PROBE fstab ls rc=$? automount=[$(state auto.automount)] mount=[$(state auto.mount)] fs=[$(grep " /auto " /proc/self/mountinfo | sed 's/.* - \([^ ]*\) .*/\1/' | tr '\n' ' ')]"

# daemon-reexec keeps the points: their pipes and state go to the new gosd.
# gosd's [stack] mapping moves with every execve (ASLR): it tells when the
# re-exec happened; the control socket then answers again.
stack() { grep '\[stack\]' /proc/1/maps; }
reexec() {
	before=$(stack)
	gosdctl daemon-reexec || echo "PROBE daemon-reexec refused"
	waitreexec "$1"
}
waitreexec() {
	i=0
	while [ $i -lt 300 ] && [ "$(stack)" = "$before" ]; do sleep 0.1; i=$((i+1)); done
	while [ $i -lt 300 ] && ! gosdctl show -p Id --value data.automount >/dev/null 2>&1; do sleep 0.1; i=$((i+1)); done
	echo "PROBE reexec-$1 waited $i polls"
}
waitexpiry "reexec-waiting:"
# 1. A waiting point, re-executed, mounts on access.
reexec 1
echo "PROBE reexec-1 state automount=[$(state data.automount)] mount=[$(state data.mount)] fs=[$(fstype)] auto=[$(state auto.automount)]"
ls /data >/dev/null
echo "PROBE reexec-1 access rc=$? automount=[$(state data.automount)] mount=[$(state data.mount)] fs=[$(fstype)]"
# 2. A running point, re-executed while mounted (kept busy meanwhile),
# still expires when idle: its expiry checks go on. The holder stays
# until the state is printed, however long the re-exec takes.
sh -c 'cd /data && exec sleep 600' &
busy=$!
reexec 2
echo "PROBE reexec-2 state automount=[$(state data.automount)] mount=[$(state data.mount)] fs=[$(fstype)]"
kill $busy
wait $busy
waitexpiry "reexec-2"
# 3. Hostile: a request that comes while gosd re-executes. Once it took
# the daemon-reexec, gosd stops reading the autofs pipes (its epoll set
# loses both); an access then is held by the kernel (ls in autofs_wait)
# while the old gosd still runs, and the new one must answer it. The
# window is short (the old gosd execs 100 ms after the answer), so the
# spin below uses shell builtins only; a missed window is tried again.
tfds() { n=0; while read -r k rest; do [ "$k" = tfd: ] && n=$((n+1)); done <"$1" 2>/dev/null; }
attempt=1
while [ $attempt -le 3 ]; do
	eps=
	for f in /proc/1/fd/*; do
		case "$(readlink "$f")" in *eventpoll*) eps="$eps ${f##*/}" ;; esac
	done
	base=
	for e in $eps; do
		tfds /proc/1/fdinfo/$e
		base="$base $e:$n"
	done
	before=$(stack)
	gosdctl daemon-reexec >/dev/null 2>&1 &
	ctl=$!
	i=0
	while [ $i -lt 20000 ] && kill -0 $ctl 2>/dev/null; do
		for b in $base; do
			tfds /proc/1/fdinfo/${b%%:*}
			[ $n -le $((${b##*:} - 2)) ] && break 2
		done
		i=$((i+1))
	done
	ls /data >/dev/null &
	pid=$!
	w=
	j=0
	while [ $j -lt 1000 ]; do
		read -r w </proc/$pid/wchan
		case "$w" in *autofs*) break ;; esac
		j=$((j+1))
	done
	[ "$(stack)" = "$before" ] && held=yes || held=no
	echo "PROBE reexec-3 attempt $attempt held pid=$pid wchan=$w old-gosd=$held"
	wait $pid
	rc=$?
	[ "$(stack)" = "$before" ] && old=yes || old=no
	echo "PROBE reexec-3 attempt $attempt access rc=$rc old-gosd=$old"
	wait $ctl || echo "PROBE daemon-reexec refused"
	waitreexec 3
	echo "PROBE reexec-3 attempt $attempt state automount=[$(state data.automount)] mount=[$(state data.mount)] fs=[$(fstype)]"
	[ "$held $w" = "yes autofs_wait" ] && break
	waitexpiry "reexec-3 attempt $attempt"
	attempt=$((attempt+1))
done
echo "PROBE-END"
kill -38 1
