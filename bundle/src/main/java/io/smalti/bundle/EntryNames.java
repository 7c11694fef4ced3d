package io.smalti.bundle;

import java.util.ArrayList;
import java.util.List;

/** The rules for names and link targets inside a bundle, shared by the builder and the extractor. Stateless. */
final class EntryNames {
    private EntryNames() {
    }

    /**
     * The components of an entry name ("./" and empty components dropped, so {@code ./a//b/} is {@code [a, b]});
     * refuses absolute names, {@code ..}, NUL and backslashes. An empty list is the bundle root.
     */
    static List<String> components(String name) {
        if (name.isEmpty()) {
            throw new BundleException("entry '': empty name");
        }
        if (name.startsWith("/")) {
            throw new BundleException("entry '" + name + "': absolute path");
        }
        // A backslash is a separator on Windows: refusing it keeps every reader of the bundle in agreement.
        if (name.indexOf('\0') >= 0 || name.indexOf('\\') >= 0) {
            throw new BundleException("entry '" + printable(name) + "': NUL or backslash in name");
        }
        List<String> parts = new ArrayList<>();
        for (String c : name.split("/")) {
            if (c.equals("..")) {
                throw new BundleException("entry '" + name + "': '..' in path");
            }
            if (!c.isEmpty() && !c.equals(".")) {
                parts.add(c);
            }
        }
        return parts;
    }

    /**
     * Checks that a symlink at {@code linkParts} with {@code target} stays inside the root: the target is
     * relative, its {@code ..} components all come first and climb no higher than the link's directory. Why so
     * strict: a {@code ..} after a component that is itself a symlink (say {@code self -> .}, then
     * {@code up -> self/..}) resolves differently on disk than on paper, so only leading {@code ..} is safe to
     * check lexically.
     */
    static void checkSymlinkTarget(String entry, List<String> linkParts, String target) {
        if (target.isEmpty() || target.indexOf('\0') >= 0) {
            throw new BundleException("entry '" + printable(entry) + "': empty symlink target or NUL in it");
        }
        if (target.startsWith("/")) {
            throw new BundleException("entry '" + entry + "': symlink to absolute path '" + target
                    + "' leaves the bundle");
        }
        int depth = linkParts.size() - 1; // the link's directory
        boolean descended = false;
        for (String c : target.split("/")) {
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                if (descended) {
                    throw new BundleException("entry '" + entry + "': symlink target '" + target
                            + "' has '..' after a name (write it without)");
                }
                if (--depth < 0) {
                    throw new BundleException("entry '" + entry + "': symlink target '" + target
                            + "' leaves the bundle");
                }
            } else {
                descended = true;
            }
        }
    }

    /** A name as it may be shown in a message: control characters escaped. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(Character.isISOControl(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return b.toString();
    }
}
