package io.smalti.hub.testing;

import com.google.protobuf.ByteString;
import io.smalti.protocol.hub.Call;
import io.smalti.protocol.hub.Cast;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Hello;
import io.smalti.protocol.hub.Link;
import io.smalti.protocol.hub.Monitor;
import io.smalti.protocol.hub.Register;
import io.smalti.protocol.hub.Reply;
import io.smalti.protocol.hub.Result;
import io.smalti.protocol.hub.Select;
import io.smalti.protocol.hub.Selector;
import io.smalti.protocol.hub.Subject;
import io.smalti.protocol.hub.Target;
import io.smalti.protocol.hub.Unregister;

/** Frames a component (through its harness) sends, built the way docs/protocol.md describes them. */
public final class Frames {
    private Frames() {}

    public static Frame hello(String component) {
        return hello(1, component);
    }

    public static Frame hello(int version, String component) {
        return Frame.newBuilder().setCorrelation(1).setHello(Hello.newBuilder().setVersion(version)
                .setComponent(component).setAgent("hub-test")).build();
    }

    public static Target component(String id) {
        return Target.newBuilder().setComponent(id).build();
    }

    public static Target group(String name, Selector selector) {
        return Target.newBuilder().setGroup(name).setSelector(selector).build();
    }

    public static Frame call(long correlation, Target target, String operation, String inputs, int timeoutMs) {
        return Frame.newBuilder().setCorrelation(correlation).setTimeoutMs(timeoutMs).setCall(Call.newBuilder()
                .setTarget(target).setOperation(operation).setInputs(ByteString.copyFromUtf8(inputs))).build();
    }

    public static Frame cast(long correlation, Target target, String operation, String inputs) {
        return Frame.newBuilder().setCorrelation(correlation).setCast(Cast.newBuilder()
                .setTarget(target).setOperation(operation).setInputs(ByteString.copyFromUtf8(inputs))).build();
    }

    /** A callee's answer to the delivered call with the hub's {@code correlation}. */
    public static Frame reply(long correlation, String outputs) {
        return Frame.newBuilder().setCorrelation(correlation).setReply(Reply.newBuilder()
                .addResults(Result.newBuilder().setOutputs(ByteString.copyFromUtf8(outputs)))).build();
    }

    public static Frame register(long correlation, String... groups) {
        return Frame.newBuilder().setCorrelation(correlation).setRegister(Register.newBuilder()
                .addAllGroups(java.util.List.of(groups))).build();
    }

    public static Frame unregister(long correlation, String... groups) {
        return Frame.newBuilder().setCorrelation(correlation).setUnregister(Unregister.newBuilder()
                .addAllGroups(java.util.List.of(groups))).build();
    }

    public static Frame select(long correlation, String group, Selector selector) {
        return Frame.newBuilder().setCorrelation(correlation).setSelect(Select.newBuilder().setGroup(group)
                .setSelector(selector)).build();
    }

    public static Frame monitorGroup(long correlation, String group) {
        return Frame.newBuilder().setCorrelation(correlation).setMonitor(Monitor.newBuilder()
                .setSubject(Subject.newBuilder().setGroup(group))).build();
    }

    public static Frame monitorComponent(long correlation, String component) {
        return Frame.newBuilder().setCorrelation(correlation).setMonitor(Monitor.newBuilder()
                .setSubject(Subject.newBuilder().setComponent(component))).build();
    }

    public static Frame link(long correlation, String component) {
        return Frame.newBuilder().setCorrelation(correlation).setLink(Link.newBuilder().setComponent(component)).build();
    }

    /** The error code of an Error frame, or null when the frame is something else. */
    public static Error.Code errorCode(Frame f) {
        return f.hasError() ? f.getError().getCode() : null;
    }
}
