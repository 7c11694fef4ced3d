package io.smalti.container.lxc;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/** The few libc calls the lxc driver needs (mount, FIFOs, signals). Thread-safe (stateless). */
interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int O_WRONLY = 1;
    int O_NONBLOCK = 0x800;
    int O_CLOEXEC = 0x80000;
    int ENXIO = 6;
    int EINTR = 4;
    int EAGAIN = 11;
    int EINVAL = 22;
    int ENOENT = 2;
    int MNT_DETACH = 2;
    long MS_RDONLY = 1;
    long MS_NOSUID = 2;
    long MS_NODEV = 4;
    long MS_REMOUNT = 32;
    long MS_BIND = 4096;
    int SIGTERM = 15;
    int SIGKILL = 9;

    int mount(String source, String target, String fstype, long flags, String data) throws LastErrorException;

    int umount2(String target, int flags) throws LastErrorException;

    int mkfifo(String path, int mode) throws LastErrorException;

    int open(String path, int flags) throws LastErrorException;

    long write(int fd, byte[] buffer, long count) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    int kill(int pid, int signal) throws LastErrorException;

    int geteuid();
}
