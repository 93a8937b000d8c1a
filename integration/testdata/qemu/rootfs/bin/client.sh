#!/bin/sh
# Connects to the socket with busybox nc and prints what came back.
ans=$(echo "ping-from-client" | nc 127.0.0.1 7000)
[ -n "$ans" ] || exit 1
echo "SOCKET-ANSWER $ans" > /dev/console
