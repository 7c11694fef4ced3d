package io.smalti.container.lxc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Gives host files to a container's mapped root (uid and gid alike). Stateless and thread-safe. */
final class Ids {
    private Ids() {
    }

    /** Owner and group of one file, not following a link. */
    static void chown(Path p, int id) throws IOException {
        Files.setAttribute(p, "unix:uid", id, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", id, LinkOption.NOFOLLOW_LINKS);
    }

    /** Owner and group of a whole tree, links themselves included (never what they point to). */
    static void chownTree(Path root, int id) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                chown(p, id);
            }
        }
    }
}
