package io.smalti.harness;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/** The few Linux libc calls the harness needs as a container init (JNA). Thread-safe (stateless). */
interface LibC extends Library {
    int PR_SET_CHILD_SUBREAPER = 36;
    int P_ALL = 0;
    int WNOHANG = 1;
    int WEXITED = 4;
    int WNOWAIT = 0x01000000;
    /** sizeof(siginfo_t) on Linux. */
    int SIGINFO_SIZE = 128;
    /** offsetof(siginfo_t, si_pid) on x86_64 and aarch64. */
    int SI_PID_OFFSET = 16;

    LibC INSTANCE = Native.load("c", LibC.class);

    int prctl(int option, long arg2, long arg3, long arg4, long arg5);

    int waitid(int idtype, int id, Pointer infop, int options);

    int waitpid(int pid, Pointer status, int options);

    int umask(int mask);

    int getpid();
}
