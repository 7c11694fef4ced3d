package io.smalti.container.lxc;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/** The exported liblxc entry points (the rest of the API hangs off {@code struct lxc_container}). */
interface LxcLibrary extends Library {
    /** Loaded by its versioned name: the unversioned liblxc.so only comes with lxc-dev. */
    String NAME = "liblxc.so.1";

    static LxcLibrary load() {
        return Native.load(NAME, LxcLibrary.class);
    }

    Pointer lxc_container_new(String name, String configpath);

    int lxc_container_put(Pointer container);

    String lxc_get_version();
}
