package io.smalti.harness.sdk;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.smalti.protocol.hub.AttributeTarget;
import io.smalti.protocol.hub.Attachment;
import io.smalti.protocol.hub.Call;
import io.smalti.protocol.hub.Cast;
import io.smalti.protocol.hub.Demonitor;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.GroupCount;
import io.smalti.protocol.hub.Hello;
import io.smalti.protocol.hub.Link;
import io.smalti.protocol.hub.Log;
import io.smalti.protocol.hub.Monitor;
import io.smalti.protocol.hub.Register;
import io.smalti.protocol.hub.Select;
import io.smalti.protocol.hub.SelectAttributes;
import io.smalti.protocol.hub.Selector;
import io.smalti.protocol.hub.Subject;
import io.smalti.protocol.hub.Unregister;
import io.smalti.protocol.hub.UpdateAttributes;
import io.smalti.protocol.hub.Welcome;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A component's connection to its harness over the local channel: Hello/Welcome, then serving the
 * {@link Component} and carrying its {@link ComponentContext} requests. {@link Components#run} is the usual
 * entry point; open a connection directly to stay in control of the process (tests, benchmarks).
 *
 * <p>Threading: one reader thread decodes frames, completes request futures and hands calls, casts and
 * events to the executor (see {@link Options#executor}); one writer thread sends every frame (see
 * {@link FrameWriter}). When the executor refuses work the call is answered OVERLOADED and casts and events
 * are dropped: like the hub, the SDK sheds load rather than queueing without limit. All methods are
 * thread-safe.
 */
public final class ComponentConnection implements AutoCloseable {
    private static final System.Logger log = System.getLogger(ComponentConnection.class.getName());
    private static final int VERSION = 1;
    /** Sanity bound for frames from the harness; its own limit (maxFrame) is normally far lower. */
    private static final int MAX_INBOUND = 64 << 20;

    /** How a connection runs: the executor for handlers, the default request timeout, the agent name. */
    public static final class Options {
        private Executor executor;
        private Duration defaultTimeout = Duration.ofSeconds(5);
        private String agent = "smalti-java-sdk";
        private int sendQueue = 65_536;
        private int handlerQueue = 65_536;
        private int parallelism;

        /** How many handlers may run at once; default max(2, available processors). */
        public Options parallelism(int handlers) {
            if (handlers < 1) {
                throw new IllegalArgumentException("parallelism must be positive: " + handlers);
            }
            this.parallelism = handlers;
            return this;
        }

        /** How many calls, casts and events may wait for a handler before they are shed; default 65536. */
        public Options handlerQueue(int frames) {
            if (frames < 1) {
                throw new IllegalArgumentException("handlerQueue must be positive: " + frames);
            }
            this.handlerQueue = frames;
            return this;
        }

        /**
         * Runs handlers; default: a pool of {@link #parallelism} daemon threads. {@code Runnable::run} runs them
         * on the connection's reader thread, which saves a thread hand-off per message; only for handlers
         * that never block (one waiting for the answer of its own call would wait for ever, as the answer is
         * read by the thread it holds).
         */
        public Options executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor);
            return this;
        }

        /** The timeout of requests that do not give one; default 5 s. */
        public Options defaultTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive: " + timeout);
            }
            this.defaultTimeout = timeout;
            return this;
        }

        /** Free text in the Hello, for the harness's log. */
        public Options agent(String agent) {
            this.agent = Objects.requireNonNull(agent);
            return this;
        }

        /** How many frames may wait to be written before sends are refused; default 65536. */
        public Options sendQueue(int frames) {
            if (frames < 1) {
                throw new IllegalArgumentException("sendQueue must be positive: " + frames);
            }
            this.sendQueue = frames;
            return this;
        }
    }

    private final SocketChannel channel;
    private final Component component;
    private final Dispatcher dispatcher;
    private final ExecutorService ownedExecutor;
    private final Duration defaultTimeout;
    private final String id;
    private final String node;
    private final int maxFrame;
    private final FrameWriter writer;
    private final java.nio.channels.Selector readable;
    private final ScheduledThreadPoolExecutor timers;
    private final Map<Long, Pending<?>> pending = new ConcurrentHashMap<>();
    private final AtomicLong correlations = new AtomicLong();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CompletableFuture<String> closed = new CompletableFuture<>();
    private final Context context = new Context();
    private volatile boolean terminated;
    private ByteBuffer readBuffer = ByteBuffer.allocateDirect(64 * 1024);

    private ComponentConnection(SocketChannel channel, Component component, Options options, Welcome welcome)
            throws IOException {
        this.channel = channel;
        this.component = component;
        this.defaultTimeout = options.defaultTimeout;
        this.id = welcome.getComponent();
        this.node = welcome.getNode();
        this.maxFrame = welcome.getMaxFrame() > 0 ? welcome.getMaxFrame() : 1 << 20;
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        if (options.executor != null) {
            this.dispatcher = new Dispatcher(options.executor, options.parallelism > 0 ? options.parallelism : threads,
                    options.handlerQueue);
            this.ownedExecutor = null;
        } else {
            int parallelism = options.parallelism > 0 ? options.parallelism : threads;
            AtomicInteger n = new AtomicInteger();
            // At most `parallelism` drainers are ever submitted, so the pool's own queue stays tiny.
            ThreadPoolExecutor pool = new ThreadPoolExecutor(parallelism, parallelism, 60, TimeUnit.SECONDS,
                    new ArrayBlockingQueue<>(parallelism), r -> daemon(r, "smalti-handler-" + n.incrementAndGet()));
            pool.allowCoreThreadTimeOut(true);
            this.dispatcher = new Dispatcher(pool, parallelism, options.handlerQueue);
            this.ownedExecutor = pool;
        }
        this.timers = new ScheduledThreadPoolExecutor(1, r -> daemon(r, "smalti-timeouts"));
        this.timers.setRemoveOnCancelPolicy(true);
        // Non-blocking from here on: senders write without waiting, and the reader waits in its selector.
        channel.configureBlocking(false);
        this.readable = java.nio.channels.Selector.open();
        channel.register(readable, SelectionKey.OP_READ);
        this.writer = new FrameWriter(channel, options.sendQueue, "smalti-writer", e -> shutdown("write failed: " + e.getMessage()));
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Connects to the harness at {@code socket}, initializes {@code component} and starts serving it. */
    public static ComponentConnection open(Path socket, Component component) throws IOException {
        return open(socket, component, new Options());
    }

    /**
     * Connects to the harness at {@code socket}, says Hello, calls {@link Component#initialize} on this
     * thread, and serves the component until {@link #close} or Terminate. Throws when the connection or the
     * handshake fails ({@link HubException} when the harness refuses), or initialize throws (wrapped).
     */
    public static ComponentConnection open(Path socket, Component component, Options options) throws IOException {
        SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        ComponentConnection connection;
        try {
            Frame hello = Frame.newBuilder()
                    .setHello(Hello.newBuilder().setVersion(VERSION).setAgent(options.agent))
                    .build();
            byte[] bytes = hello.toByteArray();
            ByteBuffer out = ByteBuffer.allocate(4 + bytes.length).putInt(bytes.length).put(bytes).flip();
            while (out.hasRemaining()) {
                channel.write(out);
            }
            ByteBuffer in = ByteBuffer.allocateDirect(64 * 1024);
            Frame answer = readHandshake(channel, in);
            if (answer.hasError()) {
                throw HubException.of(answer.getError());
            }
            if (!answer.hasWelcome()) {
                throw new IOException("harness answered Hello with " + answer.getBodyCase() + " instead of Welcome");
            }
            connection = new ComponentConnection(channel, component, options, answer.getWelcome());
            connection.readBuffer = in; // it may already hold frames that followed the Welcome
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        connection.writer.start();
        Thread reader = daemon(connection::readLoop, "smalti-reader");
        reader.start();
        try {
            component.initialize(connection.context);
        } catch (Exception e) {
            connection.close();
            throw new IOException("component initialize failed: " + e, e);
        }
        return connection;
    }

    /** Reads exactly one frame for the handshake; leaves what follows in {@code in} (write mode). */
    private static Frame readHandshake(SocketChannel channel, ByteBuffer in) throws IOException {
        while (true) {
            in.flip();
            if (in.remaining() >= 4) {
                int length = in.getInt(in.position());
                if (length < 0 || length > in.capacity() - 4) {
                    throw new IOException("handshake frame of " + length + " bytes is implausible");
                }
                if (in.remaining() >= 4 + length) {
                    Frame frame = Frame.parseFrom(in.slice(in.position() + 4, length));
                    in.position(in.position() + 4 + length);
                    in.compact();
                    return frame;
                }
            }
            in.compact();
            if (channel.read(in) < 0) {
                throw new IOException("harness closed the local channel during the handshake");
            }
        }
    }

    /** What this component can ask of the hub. */
    public ComponentContext context() {
        return context;
    }

    /** Completes with why the connection ended ("terminated: ..." after a Terminate). */
    public CompletableFuture<String> closed() {
        return closed;
    }

    /** Whether the connection ended because the harness sent Terminate. */
    public boolean terminated() {
        return terminated;
    }

    /** Closes the connection; pending requests fail with UNAVAILABLE. Idempotent. */
    @Override
    public void close() {
        shutdown("closed by the component");
    }

    private void shutdown(String why) {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        writer.stop(1000); // lets answers already queued reach the harness
        try {
            channel.close();
            readable.wakeup();
        } catch (IOException e) {
            log.log(System.Logger.Level.DEBUG, "closing the local channel", e);
        }
        HubException gone = new HubException(ErrorCode.UNAVAILABLE, "connection to the harness closed: " + why);
        for (Long correlation : pending.keySet()) {
            Pending<?> p = pending.remove(correlation);
            if (p != null) {
                p.future.completeExceptionally(gone);
            }
        }
        timers.shutdownNow();
        if (ownedExecutor != null) {
            ownedExecutor.shutdown();
        }
        closed.complete(why);
    }

    // ---- reading ---------------------------------------------------------------------------------------

    private void readLoop() {
        ByteBuffer buf = readBuffer;
        try {
            while (true) {
                buf.flip();
                while (buf.remaining() >= 4) {
                    int length = buf.getInt(buf.position());
                    if (length < 0 || length > MAX_INBOUND) {
                        throw new IOException("frame of " + Integer.toUnsignedString(length) + " bytes from the harness");
                    }
                    if (buf.remaining() < 4 + length) {
                        break;
                    }
                    Frame frame;
                    try {
                        frame = Frame.parseFrom(buf.slice(buf.position() + 4, length));
                    } catch (InvalidProtocolBufferException e) {
                        frame = null;
                        log.log(System.Logger.Level.WARNING, "malformed frame from the harness dropped: " + e.getMessage());
                    }
                    buf.position(buf.position() + 4 + length);
                    if (frame != null) {
                        dispatch(frame);
                    }
                }
                if (buf.remaining() >= 4 && 4 + buf.getInt(buf.position()) > buf.capacity()) {
                    ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(4 + buf.getInt(buf.position()), 2 * buf.capacity()));
                    bigger.put(buf);
                    buf = bigger;
                } else {
                    buf.compact();
                }
                int n = channel.read(buf);
                if (n < 0) {
                    shutdown("the harness closed the local channel");
                    return;
                }
                if (n == 0) {
                    if (closing.get()) {
                        return;
                    }
                    readable.select();
                    readable.selectedKeys().clear();
                }
            }
        } catch (IOException e) {
            shutdown(closing.get() ? "closed" : "read failed: " + e.getMessage());
        } catch (RuntimeException e) {
            log.log(System.Logger.Level.ERROR, "local channel reader failed", e);
            shutdown("reader failed: " + e);
        } finally {
            try {
                readable.close();
            } catch (IOException e) {
                // Closing anyway.
            }
        }
    }

    private void dispatch(Frame frame) {
        switch (frame.getBodyCase()) {
            case CALL -> {
                Call c = frame.getCall();
                long deadline = System.nanoTime()
                        + TimeUnit.MILLISECONDS.toNanos(frame.getTimeoutMs() != 0 ? frame.getTimeoutMs() : 30_000);
                Request request = new Request(c.getCaller(), c.getObject(), c.getOperation(), c.getInputs(),
                        c.getAttachmentsList(), deadline, frame.getCorrelation());
                if (request.correlation == 0) {
                    submit(() -> handleCast(request), null);
                } else {
                    submit(() -> handleCall(request), request);
                }
            }
            case CAST -> {
                Cast c = frame.getCast();
                Request request = new Request(c.getCaller(), c.getObject(), c.getOperation(), c.getInputs(),
                        c.getAttachmentsList(), 0, 0);
                submit(() -> handleCast(request), null);
            }
            case EVENT -> submit(() -> {
                try {
                    component.event(frame.getEvent());
                } catch (Exception e) {
                    log.log(System.Logger.Level.WARNING, "event handler failed", e);
                }
            }, null);
            case TERMINATE -> {
                // Its own thread: the executor may be saturated, and terminate() must run promptly.
                String reason = frame.getTerminate().getReason();
                daemon(() -> handleTerminate(reason), "smalti-terminate").start();
            }
            default -> {
                Pending<?> p = frame.getCorrelation() == 0 ? null : pending.remove(frame.getCorrelation());
                if (p != null) {
                    p.complete(frame);
                } else if (frame.hasError()) {
                    Error e = frame.getError();
                    log.log(System.Logger.Level.WARNING, "harness: " + e.getCode() + " " + e.getMessage()
                            + (frame.getCorrelation() != 0 ? " (request " + frame.getCorrelation() + ", no longer waiting)" : ""));
                }
                // Any other answer without a waiting request arrived after its timeout: dropped.
            }
        }
    }

    private void submit(Runnable task, Request call) {
        if (!dispatcher.submit(task) && call != null && !closing.get()) {
            answer(call, null, new HubException(ErrorCode.OVERLOADED, "component " + id + " has too many calls waiting"));
        }
    }

    private void handleCall(Request request) {
        if (request.expired()) {
            return; // the caller has given up; an answer would be dropped
        }
        CompletionStage<Response> stage;
        try {
            stage = component.callAsync(request);
        } catch (RuntimeException e) {
            stage = CompletableFuture.failedFuture(e);
        }
        if (stage == null) {
            stage = CompletableFuture.completedFuture(Response.empty());
        }
        stage.whenComplete((response, failure) -> answer(request, response, failure));
    }

    private void answer(Request request, Response response, Throwable failure) {
        io.smalti.protocol.hub.Result.Builder result = io.smalti.protocol.hub.Result.newBuilder();
        if (failure != null) {
            result.setError(toError(failure));
        } else if (response != null) {
            result.setOutputs(response.outputs()).addAllAttachments(response.attachments());
        }
        Frame frame = Frame.newBuilder()
                .setCorrelation(request.correlation)
                .setReply(io.smalti.protocol.hub.Reply.newBuilder().addResults(result))
                .build();
        if (frame.getSerializedSize() > maxFrame) {
            frame = frame.toBuilder().setReply(io.smalti.protocol.hub.Reply.newBuilder().addResults(
                    io.smalti.protocol.hub.Result.newBuilder().setError(Error.newBuilder().setCode(Error.Code.TOO_LARGE)
                            .setMessage("the answer to " + request.operation() + " (" + frame.getSerializedSize()
                                    + " bytes) exceeds the frame limit of " + maxFrame + " bytes")))).build();
        }
        writer.offer(frame); // if refused, the caller's timeout reports it
    }

    private static Error toError(Throwable failure) {
        Throwable t = failure;
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof HubException h) {
            return Error.newBuilder().setCode(h.code().toProto()).setMessage(h.reason()).build();
        }
        String message = t.getMessage() != null ? t.getMessage() : t.getClass().getName();
        return Error.newBuilder().setCode(Error.Code.FAILED).setMessage(message).build();
    }

    private void handleCast(Request request) {
        try {
            component.cast(request);
        } catch (Exception e) {
            log.log(System.Logger.Level.WARNING, "cast handler for " + request.operation() + " failed", e);
        }
    }

    private void handleTerminate(String reason) {
        terminated = true;
        try {
            component.terminate(reason);
        } catch (Exception e) {
            log.log(System.Logger.Level.WARNING, "terminate handler failed", e);
        }
        shutdown("terminated: " + reason);
    }

    // ---- requests --------------------------------------------------------------------------------------

    /** A request waiting for its answer. */
    private final class Pending<T> {
        final CompletableFuture<T> future = new CompletableFuture<>();
        final Frame.BodyCase expected;
        final Function<Frame, T> mapper;
        ScheduledFuture<?> timer;

        Pending(Frame.BodyCase expected, Function<Frame, T> mapper) {
            this.expected = expected;
            this.mapper = mapper;
        }

        void complete(Frame frame) {
            if (timer != null) {
                timer.cancel(false);
            }
            try {
                if (frame.hasError()) {
                    future.completeExceptionally(HubException.of(frame.getError()));
                } else if (frame.getBodyCase() != expected) {
                    future.completeExceptionally(new HubException(ErrorCode.BAD_REQUEST,
                            "expected " + expected + " in answer, got " + frame.getBodyCase()));
                } else {
                    future.complete(mapper.apply(frame));
                }
            } catch (RuntimeException e) {
                future.completeExceptionally(e);
            }
        }
    }

    private <T> CompletableFuture<T> request(Frame.Builder body, Duration timeout, Frame.BodyCase expected,
            Function<Frame, T> mapper) {
        Duration t = timeout != null ? timeout : defaultTimeout;
        long millis = Math.max(1, Math.min(t.toMillis(), Integer.MAX_VALUE));
        long correlation = correlations.incrementAndGet();
        Frame frame = body.setCorrelation(correlation).setTimeoutMs((int) millis).build();
        int size = frame.getSerializedSize();
        if (size > maxFrame) {
            return CompletableFuture.failedFuture(new HubException(ErrorCode.TOO_LARGE,
                    frame.getBodyCase() + " of " + size + " bytes exceeds the frame limit of " + maxFrame + " bytes"));
        }
        if (closing.get()) {
            return CompletableFuture.failedFuture(new HubException(ErrorCode.UNAVAILABLE, "connection to the harness is closed"));
        }
        Pending<T> p = new Pending<>(expected, mapper);
        pending.put(correlation, p);
        try {
            p.timer = timers.schedule(() -> expire(correlation, millis), millis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            pending.remove(correlation);
            return CompletableFuture.failedFuture(new HubException(ErrorCode.UNAVAILABLE, "connection to the harness is closed"));
        }
        if (!writer.offer(frame)) {
            pending.remove(correlation);
            p.timer.cancel(false);
            p.future.completeExceptionally(new HubException(closing.get() ? ErrorCode.UNAVAILABLE : ErrorCode.OVERLOADED,
                    closing.get() ? "connection to the harness is closed" : "send queue to the harness is full"));
        }
        return p.future;
    }

    private void expire(long correlation, long millis) {
        Pending<?> p = pending.remove(correlation);
        if (p != null) {
            p.future.completeExceptionally(new HubException(ErrorCode.EXPIRED, "no answer within " + millis + " ms"));
        }
    }

    private boolean send(Frame frame) {
        return frame.getSerializedSize() <= maxFrame && writer.offer(frame);
    }

    private static Map<String, Integer> counts(Frame frame) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (GroupCount g : frame.getMembership().getGroupsList()) {
            counts.put(g.getGroup(), g.getMembers());
        }
        return counts;
    }

    /** The {@link ComponentContext} of this connection. */
    private final class Context implements ComponentContext {
        @Override
        public String id() {
            return id;
        }

        @Override
        public String node() {
            return node;
        }

        @Override
        public int maxFrame() {
            return maxFrame;
        }

        @Override
        public CompletableFuture<Reply> call(Target target, String object, String operation, byte[] inputs,
                List<Attachment> attachments, Duration timeout) {
            Call.Builder call = Call.newBuilder().setTarget(target.toProto()).setObject(object)
                    .setOperation(operation).setInputs(ByteString.copyFrom(inputs)).addAllAttachments(attachments);
            boolean all = target.isAll();
            return request(Frame.newBuilder().setCall(call), timeout, Frame.BodyCase.REPLY, f -> {
                Reply reply = new Reply(f.getReply());
                if (!all) {
                    reply.single(); // a failed single answer fails the future
                }
                return reply;
            });
        }

        @Override
        public boolean cast(Target target, String object, String operation, byte[] inputs, List<Attachment> attachments) {
            Cast.Builder cast = Cast.newBuilder().setTarget(target.toProto()).setObject(object)
                    .setOperation(operation).setInputs(ByteString.copyFrom(inputs)).addAllAttachments(attachments);
            return send(Frame.newBuilder().setCast(cast).build());
        }

        @Override
        public Credentials credentials() {
            return vault;
        }

        private final Credentials vault = new Credentials() {
            private CompletableFuture<io.smalti.protocol.hub.CredentialResult> use(String name,
                    io.smalti.protocol.hub.UseCredential.Operation op, byte[] data, io.smalti.protocol.hub.AwsRequest aws) {
                io.smalti.protocol.hub.UseCredential.Builder u = io.smalti.protocol.hub.UseCredential.newBuilder()
                        .setName(name).setOperation(op);
                if (data != null) {
                    u.setData(com.google.protobuf.ByteString.copyFrom(data));
                }
                if (aws != null) {
                    u.setAws(aws);
                }
                return request(Frame.newBuilder().setUseCredential(u), null, Frame.BodyCase.CREDENTIAL_RESULT,
                        Frame::getCredentialResult);
            }

            @Override
            public CompletableFuture<byte[]> hmacSha256(String credential, byte[] data) {
                return use(credential, io.smalti.protocol.hub.UseCredential.Operation.HMAC_SHA256, data, null)
                        .thenApply(r -> r.getMac().toByteArray());
            }

            @Override
            public CompletableFuture<byte[]> hmacSha512(String credential, byte[] data) {
                return use(credential, io.smalti.protocol.hub.UseCredential.Operation.HMAC_SHA512, data, null)
                        .thenApply(r -> r.getMac().toByteArray());
            }

            @Override
            public CompletableFuture<Credentials.Signature> sign(String credential, byte[] data) {
                return use(credential, io.smalti.protocol.hub.UseCredential.Operation.SIGN, data, null)
                        .thenApply(r -> new Credentials.Signature(r.getSignature().toByteArray(), r.getAlgorithm(),
                                r.getPublicKey().toByteArray()));
            }

            @Override
            public CompletableFuture<String> authorization(String credential) {
                return use(credential, io.smalti.protocol.hub.UseCredential.Operation.AUTHORIZATION_HEADER, null, null)
                        .thenApply(io.smalti.protocol.hub.CredentialResult::getAuthorization);
            }

            @Override
            public CompletableFuture<Map<String, String>> awsSign(String credential, Credentials.AwsRequest r) {
                io.smalti.protocol.hub.AwsRequest.Builder b = io.smalti.protocol.hub.AwsRequest.newBuilder()
                        .setMethod(r.method()).setHost(r.host() == null ? "" : r.host()).setPath(r.path())
                        .setPayloadSha256(r.payloadSha256()).setRegion(r.region()).setService(r.service())
                        .setTimeMs(r.time().toEpochMilli());
                r.query().forEach(e -> b.addQuery(io.smalti.protocol.hub.Header.newBuilder().setName(e.getKey())
                        .setValue(e.getValue())));
                r.headers().forEach(e -> b.addHeaders(io.smalti.protocol.hub.Header.newBuilder().setName(e.getKey())
                        .setValue(e.getValue())));
                return use(credential, io.smalti.protocol.hub.UseCredential.Operation.AWS_SIGV4, null, b.build())
                        .thenApply(res -> {
                            Map<String, String> headers = new LinkedHashMap<>();
                            res.getHeadersList().forEach(h -> headers.put(h.getName(), h.getValue()));
                            return headers;
                        });
            }
        };

        @Override
        public CompletableFuture<Map<String, Integer>> register(String... groups) {
            return request(Frame.newBuilder().setRegister(Register.newBuilder().addAllGroups(Arrays.asList(groups))),
                    null, Frame.BodyCase.MEMBERSHIP, ComponentConnection::counts);
        }

        @Override
        public CompletableFuture<Map<String, Integer>> unregister(String... groups) {
            return request(Frame.newBuilder().setUnregister(Unregister.newBuilder().addAllGroups(Arrays.asList(groups))),
                    null, Frame.BodyCase.MEMBERSHIP, ComponentConnection::counts);
        }

        @Override
        public CompletableFuture<List<String>> select(String group, boolean all) {
            return request(Frame.newBuilder().setSelect(Select.newBuilder().setGroup(group)
                    .setSelector(all ? Selector.ALL : Selector.ANY)), null, Frame.BodyCase.MEMBERS,
                    f -> List.copyOf(f.getMembers().getComponentsList()));
        }

        private CompletableFuture<Void> monitor(Subject subject, boolean on) {
            Frame.Builder b = on ? Frame.newBuilder().setMonitor(Monitor.newBuilder().setSubject(subject))
                    : Frame.newBuilder().setDemonitor(Demonitor.newBuilder().setSubject(subject));
            return request(b, null, Frame.BodyCase.OK, f -> null);
        }

        @Override
        public CompletableFuture<Void> monitorGroup(String group) {
            return monitor(Subject.newBuilder().setGroup(group).build(), true);
        }

        @Override
        public CompletableFuture<Void> monitorComponent(String componentId) {
            return monitor(Subject.newBuilder().setComponent(componentId).build(), true);
        }

        @Override
        public CompletableFuture<Void> monitorAttributes(Target target) {
            return monitor(Subject.newBuilder().setAttributes(target.toAttributeTarget()).build(), true);
        }

        @Override
        public CompletableFuture<Void> demonitorGroup(String group) {
            return monitor(Subject.newBuilder().setGroup(group).build(), false);
        }

        @Override
        public CompletableFuture<Void> demonitorComponent(String componentId) {
            return monitor(Subject.newBuilder().setComponent(componentId).build(), false);
        }

        @Override
        public CompletableFuture<Void> demonitorAttributes(Target target) {
            return monitor(Subject.newBuilder().setAttributes(target.toAttributeTarget()).build(), false);
        }

        @Override
        public CompletableFuture<Void> link(String componentId) {
            return request(Frame.newBuilder().setLink(Link.newBuilder().setComponent(componentId)), null,
                    Frame.BodyCase.OK, f -> null);
        }

        @Override
        public CompletableFuture<Void> updateAttributes(Target target, Map<String, byte[]> set, Collection<String> remove) {
            UpdateAttributes.Builder update = UpdateAttributes.newBuilder().setTarget(target.toAttributeTarget());
            set.forEach((k, v) -> update.putSet(k, ByteString.copyFrom(v)));
            update.addAllRemove(remove);
            return request(Frame.newBuilder().setUpdateAttributes(update), null, Frame.BodyCase.OK, f -> null);
        }

        @Override
        public CompletableFuture<Map<String, byte[]>> selectAttributes(Target target, String... names) {
            AttributeTarget t = target.toAttributeTarget();
            return request(Frame.newBuilder().setSelectAttributes(SelectAttributes.newBuilder().setTarget(t)
                    .addAllNames(Arrays.asList(names))), null, Frame.BodyCase.ATTRIBUTES, f -> {
                        Map<String, byte[]> values = new LinkedHashMap<>();
                        f.getAttributes().getValuesMap().forEach((k, v) -> values.put(k, v.toByteArray()));
                        return values;
                    });
        }

        @Override
        public void log(Log.Level level, String message, Map<String, String> fields) {
            send(Frame.newBuilder().setLog(Log.newBuilder().setLevel(level).setMessage(message).putAllFields(fields)).build());
        }

        @Override
        public String toString() {
            return "ComponentContext[" + id + " on " + node + "]";
        }
    }
}
