/**
 * Node-level control, in plain Java so the node agent can wire it to the cluster however it likes: metrics of
 * the node read from {@code /proc} ({@link io.smalti.node.controller.ProcMetrics}), the node's life-cycle as a
 * state machine ({@link io.smalti.node.controller.NodeLifecycle}) and supervision of the node's own programs
 * with restart back-off ({@link io.smalti.node.controller.ProcessSupervisor}).
 */
package io.smalti.node.controller;
