package io.smalti.container.lxc;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.smalti.container.ContainerException;

/**
 * One {@code struct lxc_container} reference, called through the function pointers at the offsets verified for
 * liblxc 5.0.x on x86-64 (LXC-NOTES pitfall 4). Not thread-safe: make one per operation and close it (which
 * drops the reference with {@code lxc_container_put}).
 */
final class LxcContainer implements AutoCloseable {
    // Offsets into struct lxc_container (liblxc 5.0.2, x86-64).
    private static final int ERROR_STRING = 56;
    private static final int ERROR_NUM = 64;
    private static final int IS_DEFINED = 80;
    private static final int STATE = 88;
    private static final int IS_RUNNING = 96;
    private static final int INIT_PID = 120;
    private static final int START = 136;
    private static final int STOP = 152;
    private static final int WANT_DAEMONIZE = 160;
    private static final int WAIT = 184;
    private static final int SET_CONFIG_ITEM = 192;
    private static final int DESTROY = 200;
    private static final int SAVE_CONFIG = 208;
    private static final int GET_CONFIG_ITEM = 272;
    private static final int GET_CGROUP_ITEM = 312;
    private static final int SET_CGROUP_ITEM = 320;

    private final LxcLibrary lib;
    private final String name;
    private Pointer c;

    LxcContainer(LxcLibrary lib, String name, String configPath) {
        this.lib = lib;
        this.name = name;
        this.c = lib.lxc_container_new(name, configPath);
        if (c == null) {
            throw new ContainerException("liblxc could not make a container object for " + name + " in " + configPath);
        }
    }

    private Function fn(int offset) {
        Pointer p = c.getPointer(offset);
        if (p == null) {
            throw new ContainerException("liblxc: container " + name + " has no function at offset " + offset);
        }
        return Function.getFunction(p);
    }

    /** C {@code bool} comes back in the low byte of the return register; the rest is undefined. */
    private boolean callBool(int offset, Object... args) {
        Object[] full = new Object[args.length + 1];
        full[0] = c;
        System.arraycopy(args, 0, full, 1, args.length);
        return (fn(offset).invokeInt(full) & 0xff) != 0;
    }

    boolean isDefined() {
        return callBool(IS_DEFINED);
    }

    boolean isRunning() {
        return callBool(IS_RUNNING);
    }

    /** "STOPPED", "RUNNING", "STARTING", "STOPPING", ... (a static string in liblxc: not freed). */
    String state() {
        return fn(STATE).invokeString(new Object[] {c}, false);
    }

    int initPid() {
        return fn(INIT_PID).invokeInt(new Object[] {c});
    }

    void wantDaemonize(boolean on) {
        callBool(WANT_DAEMONIZE, on ? 1 : 0);
    }

    /** Starts with {@code lxc.init.cmd} as init (useinit 0, no argv). */
    boolean start() {
        return callBool(START, 0, null);
    }

    /** Kills init (SIGKILL). */
    boolean stop() {
        return callBool(STOP);
    }

    boolean waitFor(String state, int timeoutSeconds) {
        return callBool(WAIT, state, timeoutSeconds);
    }

    void set(String key, String value) {
        if (!callBool(SET_CONFIG_ITEM, key, value)) {
            throw new ContainerException("liblxc " + lib.lxc_get_version() + " refused " + key + " = " + value
                    + " for container " + name + errorSuffix());
        }
    }

    boolean saveConfig() {
        return callBool(SAVE_CONFIG, (Object) null);
    }

    boolean destroy() {
        return callBool(DESTROY);
    }

    /** A config item's value, or null. */
    String get(String key) {
        int n = fn(GET_CONFIG_ITEM).invokeInt(new Object[] {c, key, null, 0});
        if (n < 0) {
            return null;
        }
        Memory m = new Memory(n + 1L);
        m.clear();
        fn(GET_CONFIG_ITEM).invokeInt(new Object[] {c, key, m, n + 1});
        return m.getString(0);
    }

    /** A cgroup file of the running container (e.g. "memory.usage_in_bytes"), or null. */
    String cgroupItem(String item) {
        int size = 4096;
        Memory m = new Memory(size);
        m.clear();
        int n = fn(GET_CGROUP_ITEM).invokeInt(new Object[] {c, item, m, size});
        if (n <= 0) {
            return null;
        }
        return m.getString(0).strip();
    }

    /** Writes a cgroup file of the running container (e.g. "cpu.cfs_quota_us"); false when liblxc refused. */
    boolean setCgroupItem(String item, String value) {
        return callBool(SET_CGROUP_ITEM, item, value);
    }

    String errorSuffix() {
        Pointer s = c.getPointer(ERROR_STRING);
        int num = c.getInt(ERROR_NUM);
        return s == null ? (num != 0 ? " (error " + num + ")" : "") : ": " + s.getString(0);
    }

    @Override
    public void close() {
        if (c != null) {
            lib.lxc_container_put(c);
            c = null;
        }
    }
}
