package exec

import (
	"encoding/binary"
	"os"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// listenPIDStub is where the stub is: /proc/self/fd/N of a sealed memfd
// holding its ELF image, at fd N ≥ minStubFD so that the fds a child gets
// at 0.. (dup2'd over whatever it inherited) leave it alone; "" when there
// is none for this machine or the kernel refuses it (memfd_create,
// vm.memfd_noexec=2, no /proc yet). A failure is not kept while /proc is
// missing: as PID1 gosd spawns before mounting it.
var listenPID struct {
	mu       sync.Mutex
	path     string
	fd       int
	low      int  // a second fd of the stub, lower: see listenPIDStubFor
	disabled bool // the kernel would not execute it (stubFailed)
}

// minStubFD keeps the stub's fd above the fds a child is usually given
// (0, 1, 2 and the passed ones); a child given more goes the shell's way
// (listenPIDStub's check). 63 is the last slot of the kernel's first fd
// table: a higher one would grow gosd's table, and growing the table of a
// process with threads waits for an RCU grace period (14 ms measured,
// fcntl F_DUPFD_CLOEXEC 256, on the first socket activation).
const minStubFD = 63

// listenPIDStub returns the stub's path for a child that gets nfiles fds,
// "" when it cannot be used.
func listenPIDStub(nfiles int) string {
	if listenPIDCode == nil {
		return ""
	}
	listenPID.mu.Lock()
	defer listenPID.mu.Unlock()
	if listenPID.disabled {
		return ""
	}
	if listenPID.path == "" {
		fd, err := makeStub(stubELF(listenPIDMachine, listenPIDCode))
		if err != nil {
			return ""
		}
		listenPID.fd, listenPID.path = fd, "/proc/self/fd/"+strconv.Itoa(fd)
		listenPID.low = -1
		if low, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, minLowStubFD); err == nil {
			listenPID.low = low
		}
	}
	if listenPID.fd < nfiles {
		return ""
	}
	return listenPID.path
}

// minLowStubFD is where the stub's second fd goes: above the fds a child
// is usually given, below the first.
const minLowStubFD = 16

// listenPIDStubFor is listenPIDStub for a child given files (gosd's fds,
// by the child's number). Before it dup2s them into place, Go's fork
// moves its error pipe, and every fd that a lower-numbered one would
// overwrite, to the numbers right above the highest of len(files) and
// files' own (syscall's nextfd): when gosd passes its fd 62 the pipe
// lands on 63, over the stub, whose exec then fails. A stub fd in that
// window is passed over for its second, lower fd; with both in it (a
// child given more fds than that) the caller takes the shell.
func listenPIDStubFor(files []uintptr) string {
	if listenPIDStub(len(files)) == "" {
		return ""
	}
	next := len(files)
	for _, f := range files {
		next = max(next, int(f)) // int(^uintptr(0)) is -1: no fd
	}
	next++
	listenPID.mu.Lock()
	defer listenPID.mu.Unlock()
	for _, fd := range []int{listenPID.fd, listenPID.low} {
		if fd >= len(files) && (fd < next || fd > next+len(files)) {
			return "/proc/self/fd/" + strconv.Itoa(fd)
		}
	}
	return ""
}

// stubFailed turns the stub off after the kernel refused to execute it
// (an LSM, say) while the shell managed the same spawn.
func stubFailed() {
	listenPID.mu.Lock()
	defer listenPID.mu.Unlock()
	listenPID.disabled = true
}

// makeStub puts image in a sealed, close-on-exec memfd at a high fd.
func makeStub(image []byte) (int, error) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return -1, err
	}
	// MFD_EXEC: executable even where vm.memfd_noexec=1 makes memfds
	// noexec by default; kernels before 6.3 do not know the flag.
	fd, err := unix.MemfdCreate(listenPIDArgv0, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if err == unix.EINVAL {
		fd, err = unix.MemfdCreate(listenPIDArgv0, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return -1, err
	}
	fail := func(err error) (int, error) {
		syscall.Close(fd)
		return -1, err
	}
	if n, err := syscall.Write(fd, image); err != nil || n != len(image) {
		if err == nil {
			err = syscall.EIO
		}
		return fail(err)
	}
	// Nobody, not even gosd, changes it afterwards.
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS,
		unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE); err != nil {
		return fail(err)
	}
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, minStubFD)
	syscall.Close(fd)
	if err != nil {
		return -1, err
	}
	return high, nil
}

// stubELF is a static ELF64 executable (little endian) whose one segment,
// read and execute, is the whole file, entered at the first byte of code.
// The code must be position independent.
func stubELF(machine uint16, code []byte) []byte {
	const (
		base   = 0x400000
		ehSize = 64
		phSize = 56
		hdr    = ehSize + 2*phSize
	)
	total := uint64(hdr + len(code))
	b := make([]byte, hdr, total)
	le := binary.LittleEndian
	copy(b, "\x7fELF\x02\x01\x01") // ELFCLASS64, ELFDATA2LSB, EV_CURRENT, System V ABI
	le.PutUint16(b[16:], 2)        // ET_EXEC
	le.PutUint16(b[18:], machine)
	le.PutUint32(b[20:], 1) // EV_CURRENT
	le.PutUint64(b[24:], base+hdr)
	le.PutUint64(b[32:], ehSize) // program headers follow the ELF header
	le.PutUint16(b[52:], ehSize)
	le.PutUint16(b[54:], phSize)
	le.PutUint16(b[56:], 2)
	load := b[ehSize:]
	le.PutUint32(load[0:], 1) // PT_LOAD
	le.PutUint32(load[4:], 5) // PF_R|PF_X
	le.PutUint64(load[16:], base)
	le.PutUint64(load[24:], base)
	le.PutUint64(load[32:], total)
	le.PutUint64(load[40:], total)
	le.PutUint64(load[48:], 0x10000) // any page size up to 64 KiB
	stack := b[ehSize+phSize:]
	le.PutUint32(stack[0:], 0x6474e551) // PT_GNU_STACK: a stack that does not execute
	le.PutUint32(stack[4:], 6)          // PF_R|PF_W
	le.PutUint64(stack[48:], 16)
	return append(b, code...)
}
