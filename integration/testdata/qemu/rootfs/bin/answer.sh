#!/bin/sh
# The socket-activated service (Accept=yes: one per connection, the
# connection on stdin and stdout): answers one line.
read -r line
echo "ANSWERED pid=$$" > /dev/console
echo "answer:$line"
