/**
 * Container drivers: run component instances, each with its harness as init, on this node.
 *
 * <p>{@link io.smalti.container.ContainerDrivers#create} picks {@code lxc} (liblxc through JNA: overlay root
 * filesystem over a busybox base, cgroup limits, veth on the node bridge or the host network) where it can work,
 * else {@code process} (plain child processes, no isolation). Layout of the state directory:
 * <pre>
 * &lt;state&gt;/instances/&lt;id&gt;/instance.json   what survives an agent restart: container name, address, ports, pid
 * &lt;state&gt;/instances/&lt;id&gt;/harness.log     the harness's stdout and stderr
 * &lt;state&gt;/instances/&lt;id&gt;/{upper,work,rootfs}  lxc: the instance's overlay (rootfs is the mount point)
 * &lt;state&gt;/lxc/&lt;container name&gt;/config  lxc: the saved container config (liblxc config path)
 * &lt;state&gt;/rootfs-v1/                     lxc: the node's read-only busybox base layer
 * </pre>
 */
package io.smalti.container;
