package io.smalti.container;

import io.smalti.container.lxc.LxcDriver;
import io.smalti.container.process.ProcessDriver;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Picks this node's container driver: {@code lxc} where it can work, else {@code process}. Stateless. */
public final class ContainerDrivers {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerDrivers.class);

    private ContainerDrivers() {
    }

    /**
     * {@code lxc} when running as root, liblxc loads with a verified version, and the smoke check passes (busybox,
     * overlayfs, the seccomp profile); otherwise {@code process}, with a loud warning that it isolates nothing.
     */
    public static ContainerDriver create(ContainerSettings settings) {
        String why = lxcUnavailableReason();
        if (why == null) {
            try {
                return new LxcDriver(settings);
            } catch (ContainerException | LinkageError e) {
                why = e.getMessage();
            }
        }
        LOG.warn("**********************************************************************************");
        LOG.warn("LXC cannot be used on this node ({}).", why);
        LOG.warn("Using the PROCESS driver: components run as plain processes of this machine with NO");
        LOG.warn("isolation and NO limits: they see and can touch everything the node agent can.");
        LOG.warn("**********************************************************************************");
        return new ProcessDriver(settings);
    }

    /** Null when the lxc driver can be tried, else why not. */
    public static String lxcUnavailableReason() {
        if (!"root".equals(System.getProperty("user.name")) && !isRoot()) {
            return "not running as root";
        }
        if (!Files.isRegularFile(Path.of("/bin/busybox"))) {
            return "/bin/busybox is missing (install busybox-static)";
        }
        if (!Files.exists(Path.of("/usr/share/lxc/config/common.seccomp"))) {
            return "/usr/share/lxc/config/common.seccomp is missing (install lxc)";
        }
        try {
            if (!Files.readString(Path.of("/proc/filesystems")).contains("\toverlay\n")) {
                return "the kernel has no overlayfs";
            }
        } catch (java.io.IOException e) {
            return "cannot read /proc/filesystems: " + e.getMessage();
        }
        return null;
    }

    private static boolean isRoot() {
        try {
            return Files.readString(Path.of("/proc/self/status")).lines()
                    .filter(l -> l.startsWith("Uid:")).anyMatch(l -> l.split("\\s+")[2].equals("0"));
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
