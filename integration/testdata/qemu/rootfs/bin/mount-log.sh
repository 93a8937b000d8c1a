#!/bin/sh
# The log disk (NVMe: the one disk driver built into Debian's cloud kernel),
# an ext4 made by the test, mounted on /var/log.
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
mkdir -p /var/log
mount -t ext4 /dev/nvme0n1 /var/log || { echo "LOGDISK-FAILED" > /dev/console; exit 1; }
mkdir -p /var/log/gosd
echo "LOGDISK-MOUNTED" > /dev/console
