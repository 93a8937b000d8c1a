#!/bin/sh
# finit's stand-in for "Reached target qemu.target".
echo "FINIT-TARGET-REACHED" > /dev/console
