package io.smalti.ring.cluster;

import org.apache.pekko.cluster.Member;

/**
 * A node's name travels as a cluster role {@code node-name:<name>}, so every member knows every other
 * member's name from the membership alone. Ring owners are node names, so a node that restarts on a new
 * port under the same name keeps its vnodes.
 */
public final class NodeNames {
    public static final String ROLE_PREFIX = "node-name:";

    private NodeNames() {}

    public static String role(String name) {
        return ROLE_PREFIX + name;
    }

    /** The member's node name; its host:port when it carries no name role. */
    public static String of(Member member) {
        for (String role : member.getRoles()) {
            if (role.startsWith(ROLE_PREFIX)) {
                return role.substring(ROLE_PREFIX.length());
            }
        }
        return hostPort(member);
    }

    public static String hostPort(Member member) {
        var a = member.address();
        return a.getHost().orElse("?") + ":" + a.getPort().map(String::valueOf).orElse("?");
    }
}
