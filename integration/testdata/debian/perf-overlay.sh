#!/bin/sh
# Builds an overlay for the Debian boot test that profiles the whole guest
# with perf from the start of its init to the report (docs/debian-boot.md,
# "Profiling the guest"). Usage, as root on a Debian 12 host:
#
#   sh integration/testdata/debian/perf-overlay.sh /tmp/perfov
#   GOSD_DEBIAN_BOOT=1 GOSD_DEBIAN_OVERLAY=/tmp/perfov \
#     GOSD_DEBIAN_GOSD_ARGS=rdinit=/sbin/perf-init \
#     go test -run 'TestDebianBoot/gosd' -v ./integration/
#
# The report prints the profile between PERF-BEGIN and PERF-END.
set -eu
out=${1:?usage: perf-overlay.sh DIR}
command -v perf >/dev/null || apt-get install -y -qq linux-perf
cache=${GOSD_TEST_CACHE:-/var/cache/gosd-test}/debian-bookworm-minbase.tar
mkdir -p "$out/usr/bin" "$out/usr/lib/x86_64-linux-gnu" "$out/sbin"
cp -L "$(command -v perf)" "$out/usr/bin/perf"
# Only the libraries the image lacks: the image's own libc and friends stay.
have=$(tar tf "$cache" | sed -n 's|.*usr/lib/x86_64-linux-gnu/||p')
for lib in $(ldd "$(command -v perf)" | awk '$3 ~ /^\// {print $3}'); do
	echo "$have" | grep -qx "$(basename "$lib")" || cp -L "$lib" "$out/usr/lib/x86_64-linux-gnu/"
done
cat >"$out/sbin/perf-init" <<'INIT'
#!/bin/sh
# perf needs /proc to start; the init it runs mounts its own.
mount -t proc proc /proc
/usr/bin/perf record -a -g -e cpu-clock -F ${GOSD_PERF_HZ:-2000} -o /perf.data >/dev/null 2>&1 &
echo $! >/perf.pid
sleep 1
umount /proc
if [ $# -gt 0 ] && [ "${1#/}" != "$1" ]; then exec "$@"; fi
exec /sbin/gosd "$@"
INIT
chmod +x "$out/sbin/perf-init"
