package exec

// The stub for x86-64 (listenpid.go). At entry the stack holds argc, argv
// and envp (the System V ABI's process start). It is started as
//
//	gosd-listen-pid PATH ARGV0 ARGS... with envp[0] = listenPIDSlot
//
// and writes its own pid after "LISTEN_PID=" in envp[0], NUL-terminated,
// then execve(PATH, argv+2, envp). Should that fail it says so on stderr
// and exits with 203, systemd's EXIT_EXEC (systemd.exec(5)). Assembled
// from the listing in the comments (GNU as, AT&T syntax).
const listenPIDMachine = 62 // EM_X86_64

var listenPIDCode = append([]byte{
	0x4c, 0x8b, 0x24, 0x24, //             mov    (%rsp),%r12            argc
	0x4c, 0x8d, 0x6c, 0x24, 0x08, //       lea    0x8(%rsp),%r13         argv
	0x4e, 0x8d, 0x74, 0xe4, 0x10, //       lea    0x10(%rsp,%r12,8),%r14 envp = argv+argc+1
	0xb8, 0x27, 0x00, 0x00, 0x00, //       mov    $39,%eax               getpid
	0x0f, 0x05, //                         syscall
	0x49, 0x8b, 0x3e, //                   mov    (%r14),%rdi            envp[0]
	0x48, 0x83, 0xc7, 0x0b, //             add    $11,%rdi               past "LISTEN_PID="
	0x49, 0x89, 0xc0, //                   mov    %rax,%r8
	0xb9, 0x0a, 0x00, 0x00, 0x00, //       mov    $10,%ecx
	0x45, 0x31, 0xc9, //                   xor    %r9d,%r9d              r9: the number of digits
	0x31, 0xd2, //                      1: xor    %edx,%edx
	0x48, 0xf7, 0xf1, //                   div    %rcx
	0x49, 0xff, 0xc1, //                   inc    %r9
	0x48, 0x85, 0xc0, //                   test   %rax,%rax
	0x75, 0xf3, //                         jne    1b
	0x42, 0xc6, 0x04, 0x0f, 0x00, //       movb   $0,(%rdi,%r9)          the terminating NUL
	0x4c, 0x89, 0xc0, //                   mov    %r8,%rax
	0x31, 0xd2, //                      2: xor    %edx,%edx              the digits, last first
	0x48, 0xf7, 0xf1, //                   div    %rcx
	0x80, 0xc2, 0x30, //                   add    $'0',%dl
	0x49, 0xff, 0xc9, //                   dec    %r9
	0x42, 0x88, 0x14, 0x0f, //             mov    %dl,(%rdi,%r9)
	0x4d, 0x85, 0xc9, //                   test   %r9,%r9
	0x75, 0xec, //                         jne    2b
	0x49, 0x8b, 0x7d, 0x08, //             mov    0x8(%r13),%rdi         argv[1]: the program
	0x49, 0x8d, 0x75, 0x10, //             lea    0x10(%r13),%rsi        argv+2
	0x4c, 0x89, 0xf2, //                   mov    %r14,%rdx              envp
	0xb8, 0x3b, 0x00, 0x00, 0x00, //       mov    $59,%eax               execve
	0x0f, 0x05, //                         syscall
	0xbf, 0x02, 0x00, 0x00, 0x00, //       mov    $2,%edi                only on failure: to stderr
	0x48, 0x8d, 0x35, 0x18, 0x00, 0x00, 0x00, // lea msg(%rip),%rsi
	0xba, byte(len(listenPIDFailure)), 0x00, 0x00, 0x00, // mov $len(msg),%edx
	0xb8, 0x01, 0x00, 0x00, 0x00, //       mov    $1,%eax                write
	0x0f, 0x05, //                         syscall
	0xbf, 0xcb, 0x00, 0x00, 0x00, //       mov    $203,%edi
	0xb8, 0xe7, 0x00, 0x00, 0x00, //       mov    $231,%eax              exit_group
	0x0f, 0x05, //                         syscall
}, listenPIDFailure...) //              msg:

const listenPIDFailure = "gosd: cannot execute the service's program\n"
