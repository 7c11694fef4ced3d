package io.smalti.container.lxc;

import io.smalti.container.ContainerException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The ordered configuration items of one container, as given to {@code set_config_item}. Not thread-safe. */
final class LxcConfig {
    private final List<Map.Entry<String, String>> items = new ArrayList<>();

    LxcConfig set(String key, String value) {
        items.add(Map.entry(key, value));
        return this;
    }

    /** A read-only bind mount of a host path at the same or another path inside ({@code inside} absolute). */
    LxcConfig bindReadOnly(Path host, String inside, boolean file) {
        return set("lxc.mount.entry", host + " " + relative(inside) + " none ro,bind," + (file ? "create=file" : "create=dir")
                + " 0 0");
    }

    /** A writable bind mount of a single file (the configuration FIFO). */
    LxcConfig bindFile(Path host, String inside) {
        return set("lxc.mount.entry", host + " " + relative(inside) + " none bind,create=file 0 0");
    }

    List<Map.Entry<String, String>> items() {
        return List.copyOf(items);
    }

    /** lxc.mount.entry takes the target relative to the rootfs, fstab-style: no white space allowed. */
    private static String relative(String inside) {
        check(inside);
        return inside.startsWith("/") ? inside.substring(1) : inside;
    }

    static void check(String path) {
        for (int i = 0; i < path.length(); i++) {
            if (Character.isWhitespace(path.charAt(i)) || Character.isISOControl(path.charAt(i))) {
                throw new ContainerException("path \"" + path + "\" has white space or control characters,"
                        + " which an lxc mount entry cannot carry");
            }
        }
    }
}
