#!/bin/sh
# Reports what early boot set up, on the serial console, for the qemu test.
{
	echo "MARKER pid=$$ hostname=$(cat /proc/sys/kernel/hostname) machine-id=$(cat /etc/machine-id) lo-flags=$(cat /sys/class/net/lo/flags)"
	while read -r src dst fs rest; do
		echo "MOUNT $dst $fs"
	done < /proc/self/mounts
	echo "NOFILE init=$(awk '/Max open files/ {print $4 ":" $5}' /proc/1/limits) own=$(ulimit -Sn):$(ulimit -Hn)"
	echo "MARKER-END"
} > /dev/console
