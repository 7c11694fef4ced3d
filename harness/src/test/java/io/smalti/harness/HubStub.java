package io.smalti.harness;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Welcome;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A TLS hub for the end-to-end tests, with a cluster CA of its own: enrols a harness (a token it made, redeemed once,
 * for a certificate of the harness's key), answers Hello (recording the client certificate), renews certificates,
 * queues what harnesses send, sends frames on demand.
 */
final class HubStub implements AutoCloseable {
    /** One harness connection. */
    static final class Conn {
        final Channel channel;
        final Frame hello;
        /** The client certificate the harness presented with its Hello, or null. */
        volatile java.security.cert.X509Certificate certificate;
        final BlockingQueue<Frame> received = new LinkedBlockingQueue<>();
        final CompletableFuture<Void> closed = new CompletableFuture<>();

        Conn(Channel channel, Frame hello) {
            this.channel = channel;
            this.hello = hello;
        }

        Frame next() throws InterruptedException {
            Frame f = received.poll(10, TimeUnit.SECONDS);
            if (f == null) {
                throw new AssertionError("no frame from the harness within 10 s");
            }
            return f;
        }

        void send(Frame frame) {
            channel.writeAndFlush(Frames.encode(channel.alloc(), frame));
        }
    }

    final String pem;
    final int port;
    final io.smalti.credentials.ca.ClusterCa ca;
    /** Lifetime of the certificates this stub issues (short, to see renewals). */
    volatile java.time.Duration lifetime = java.time.Duration.ofHours(1);
    /** Renew frames received, per connection order. */
    final BlockingQueue<Channel> renewals = new LinkedBlockingQueue<>();
    private final java.util.Set<String> tokens = java.util.concurrent.ConcurrentHashMap.newKeySet();
    final BlockingQueue<Conn> connections = new LinkedBlockingQueue<>();
    /** Every connection accepted, for {@link #kill}. */
    private final List<Channel> accepted = new CopyOnWriteArrayList<>();
    /** Sends every Cast straight back to the harness it came from (for throughput probes). */
    volatile boolean reflectCasts;
    volatile Function<Frame, Frame> helloAnswer = hello -> Frame.newBuilder()
            .setWelcome(Welcome.newBuilder().setVersion(1).setComponent(hello.getHello().getComponent()).setNode("n1")
                    .setMaxFrame(1 << 20)).build();
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;

    /** A CA in {@code dir}; the stub presents a node certificate of it. */
    HubStub(java.nio.file.Path dir) throws Exception {
        ca = testCa(dir);
        pem = io.smalti.credentials.ca.Pem.certificate(ca.certificate());
        java.security.KeyPair pair = io.smalti.credentials.ca.KeyAlgorithm.EC.generate();
        java.security.cert.X509Certificate nodeCert = ca.issue(new io.smalti.credentials.ca.Identity("node", "n1", "n1",
                List.of("127.0.0.1")), pair.getPublic(), java.time.Duration.ofHours(1), java.time.Instant.now());
        SslContext ssl = SslContextBuilder.forServer(pair.getPrivate(), nodeCert, ca.certificate())
                .clientAuth(io.netty.handler.ssl.ClientAuth.OPTIONAL)
                .trustManager(io.netty.handler.ssl.util.InsecureTrustManagerFactory.INSTANCE).build();
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(io.netty.channel.ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accepted.add(ch);
                        ch.pipeline().addLast(ssl.newHandler(ch.alloc()));
                        ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(1 << 21, 0, 4, 0, 4));
                        ch.pipeline().addLast(new SimpleChannelInboundHandler<ByteBuf>() {
                            Conn conn;

                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) throws Exception {
                                if (conn != null && reflectCasts) {
                                    ctx.write(ctx.alloc().buffer(4 + msg.readableBytes()).writeInt(msg.readableBytes()).writeBytes(msg));
                                    return;
                                }
                                byte[] bytes = new byte[msg.readableBytes()];
                                msg.readBytes(bytes);
                                Frame frame = Frame.parseFrom(bytes);
                                if (conn == null && frame.hasEnroll()) {
                                    ctx.writeAndFlush(Frames.encode(ctx.alloc(), enrol(frame)))
                                            .addListener(io.netty.channel.ChannelFutureListener.CLOSE);
                                    return;
                                }
                                if (conn != null && frame.hasRenew()) {
                                    renewals.add(ctx.channel());
                                    conn.send(issued(conn.hello.getHello().getComponent(),
                                            frame.getRenew().getPublicKey().toByteArray()));
                                    return;
                                }
                                if (conn == null) {
                                    conn = new Conn(ctx.channel(), frame);
                                    try {
                                        conn.certificate = (java.security.cert.X509Certificate) ctx.pipeline()
                                                .get(io.netty.handler.ssl.SslHandler.class).engine().getSession()
                                                .getPeerCertificates()[0];
                                    } catch (javax.net.ssl.SSLPeerUnverifiedException none) {
                                        conn.certificate = null;
                                    }
                                    connections.add(conn);
                                    Frame answer = helloAnswer.apply(frame);
                                    conn.send(answer.toBuilder().setCorrelation(frame.getCorrelation()).build());
                                } else {
                                    conn.received.add(frame);
                                }
                            }

                            @Override
                            public void channelReadComplete(ChannelHandlerContext ctx) {
                                ctx.flush();
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                if (conn != null) {
                                    conn.closed.complete(null);
                                }
                            }
                        });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        port = ((java.net.InetSocketAddress) server.localAddress()).getPort();
    }

    /** A new one-time token this stub redeems once. */
    String token() {
        String t = java.util.UUID.randomUUID().toString();
        tokens.add(t);
        return t;
    }

    private Frame enrol(Frame frame) {
        if (!tokens.remove(frame.getEnroll().getToken())) {
            return Frame.newBuilder().setCorrelation(frame.getCorrelation()).setError(io.smalti.protocol.hub.Error.newBuilder()
                    .setCode(io.smalti.protocol.hub.Error.Code.UNAUTHENTICATED).setMessage("enrolment refused: the token is not valid")).build();
        }
        return issued(null, frame.getEnroll().getPublicKey().toByteArray());
    }

    private Frame issued(String component, byte[] publicKey) {
        java.security.cert.X509Certificate c = ca.issue(new io.smalti.credentials.ca.Identity("harness",
                component != null ? component : "0000000000000000000000000000000000000000", "n1", List.of()),
                io.smalti.credentials.ca.Pem.parsePublicKey(publicKey), lifetime, java.time.Instant.now());
        try {
            return Frame.newBuilder().setEnrolled(io.smalti.protocol.hub.Enrolled.newBuilder()
                    .setCertificate(com.google.protobuf.ByteString.copyFrom(c.getEncoded()))
                    .setCaCertificate(com.google.protobuf.ByteString.copyFrom(ca.certificate().getEncoded()))
                    .setNotAfterMs(c.getNotAfter().getTime())).build();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A cluster CA in {@code dir} (made on first use, reused after). */
    static io.smalti.credentials.ca.ClusterCa testCa(java.nio.file.Path dir) throws Exception {
        java.nio.file.Files.createDirectories(dir);
        java.nio.file.Path key = dir.resolve("master.key");
        if (!java.nio.file.Files.exists(key)) {
            java.nio.file.Files.writeString(key, "harness tests' master key");
            java.nio.file.Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        }
        java.nio.file.Path caDir = dir.resolve("ca");
        byte[] secret = io.smalti.credentials.MasterKey.readSecret(key);
        if (io.smalti.credentials.ca.ClusterCa.exists(caDir)) {
            return io.smalti.credentials.ca.ClusterCa.open(caDir, io.smalti.credentials.MasterKey.open(caDir, secret));
        }
        return io.smalti.credentials.ca.ClusterCa.create(caDir, io.smalti.credentials.MasterKey.create(caDir, secret),
                "test", io.smalti.credentials.ca.KeyAlgorithm.EC, java.time.Instant.now());
    }

    Conn accept() throws InterruptedException {
        Conn c = connections.poll(20, TimeUnit.SECONDS);
        if (c == null) {
            throw new AssertionError("no harness connected within 20 s");
        }
        return c;
    }

    /** The hub dies (its node agent is killed): it stops listening and every connection closes, now. */
    void kill() {
        server.close().syncUninterruptibly();
        accepted.forEach(c -> c.close().syncUninterruptibly());
    }

    @Override
    public void close() {
        server.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
