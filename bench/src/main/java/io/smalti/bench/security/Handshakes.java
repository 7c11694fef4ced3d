package io.smalti.bench.security;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;

/**
 * Timed connections for {@link SecurityBench}: echo servers (plain, server-only TLS, mutual TLS) on loopback, and a
 * client that connects, completes the handshake, sends one length-prefixed frame and reads the first frame back
 * (or stops after the handshake), then closes. Each connection gets a fresh client context, built before its clock
 * starts, so nothing is resumed. Threading: one epoll loop for the servers, one for the clients; the caller's thread
 * waits for each connection in turn (one in flight).
 */
final class Handshakes implements AutoCloseable {
    /** One kind of connection; {@code provider} null: plain TCP. */
    record Variant(String name, int port, SslProvider provider, boolean clientCertificate, KeyPair key,
                   X509Certificate certificate, X509Certificate ca, boolean handshakeOnly) {
        Variant(String name, int port, SslProvider provider, boolean clientCertificate, KeyPair key,
                X509Certificate certificate, X509Certificate ca) {
            this(name, port, provider, clientCertificate, key, certificate, ca, false);
        }

        Variant stopAfterHandshake() {
            return new Variant(name, port, provider, clientCertificate, key, certificate, ca, true);
        }
    }

    /** Milliseconds per connection: connect → done, and connect → TLS handshake done (empty for plain TCP). */
    record Times(List<Double> total, List<Double> handshake) {
    }

    private final EventLoopGroup servers = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final EventLoopGroup clients = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());

    /** Starts an echo server on 127.0.0.1 (a free port); {@code provider} null: no TLS. Returns its port. */
    int server(SslProvider provider, KeyPair key, X509Certificate cert, X509Certificate ca, boolean requireClient)
            throws SSLException, InterruptedException {
        SslContext tls = null;
        if (provider != null) {
            SslContextBuilder b = SslContextBuilder.forServer(key.getPrivate(), cert, ca).sslProvider(provider)
                    .protocols("TLSv1.3", "TLSv1.2");
            if (requireClient) {
                b.clientAuth(ClientAuth.REQUIRE).trustManager(ca);
            }
            tls = b.build();
        }
        SslContext context = tls;
        Channel ch = new ServerBootstrap().group(servers).channel(EpollServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel c) {
                        if (context != null) {
                            c.pipeline().addLast(context.newHandler(c.alloc()));
                        }
                        c.pipeline().addLast(new LengthFieldBasedFrameDecoder(1 << 16, 0, 4, 0, 0));
                        c.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ctx.writeAndFlush(msg); // the frame back, as it came
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                ctx.close();
                            }
                        });
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        return ((InetSocketAddress) ch.localAddress()).getPort();
    }

    /** Each variant {@code warmup + n} times, one of each in turn; the last {@code n} of each are kept. */
    Map<String, Times> measure(String host, List<Variant> variants, byte[] frame, int warmup, int n, Consumer<String> log)
            throws Exception {
        Map<String, Times> out = new LinkedHashMap<>();
        variants.forEach(v -> out.put(v.name(), new Times(new ArrayList<>(), new ArrayList<>())));
        for (int i = 0; i < warmup + n; i++) {
            for (Variant v : variants) {
                long[] t = once(host, v, frame);
                if (i >= warmup) {
                    out.get(v.name()).total().add(t[0] / 1e6);
                    if (t[1] > 0) {
                        out.get(v.name()).handshake().add(t[1] / 1e6);
                    }
                }
            }
            if ((i + 1) % 250 == 0) {
                log.accept("  " + (i + 1) + "/" + (warmup + n) + " connections of each variant");
            }
        }
        return out;
    }

    /** One connection with its own client context: the body of the first frame the server answered. */
    byte[] exchange(String host, int port, SslProvider provider, KeyPair key, X509Certificate cert, X509Certificate ca,
            byte[] frame) throws Exception {
        Variant v = new Variant("exchange", port, provider, key != null, key, cert, ca);
        byte[][] reply = new byte[1][];
        once(host, v, frame, reply);
        return reply[0];
    }

    private long[] once(String host, Variant v, byte[] frame) throws Exception {
        return once(host, v, frame, null);
    }

    /** Nanoseconds: {@code [connect → done, connect → handshake done (0 without TLS)]}. */
    private long[] once(String host, Variant v, byte[] frame, byte[][] reply) throws Exception {
        SslContext tls = v.provider() == null ? null : client(v);
        CompletableFuture<long[]> done = new CompletableFuture<>();
        long t0 = System.nanoTime();
        Channel ch = new Bootstrap().group(clients).channel(EpollSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel c) {
                        if (tls != null) {
                            c.pipeline().addLast(tls.newHandler(c.alloc(), host, v.port()));
                        }
                        c.pipeline().addLast(new LengthFieldBasedFrameDecoder(1 << 20, 0, 4, 0, 4));
                        c.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            private long handshake;

                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                if (tls == null) {
                                    ctx.writeAndFlush(Unpooled.wrappedBuffer(frame));
                                }
                                ctx.fireChannelActive();
                            }

                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                if (evt instanceof SslHandshakeCompletionEvent e) {
                                    if (!e.isSuccess()) {
                                        done.completeExceptionally(e.cause());
                                        ctx.close();
                                        return;
                                    }
                                    handshake = System.nanoTime() - t0;
                                    if (v.handshakeOnly()) {
                                        done.complete(new long[] {handshake, handshake});
                                        ctx.close();
                                    } else {
                                        ctx.writeAndFlush(Unpooled.wrappedBuffer(frame));
                                    }
                                }
                                ctx.fireUserEventTriggered(evt);
                            }

                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                long t = System.nanoTime() - t0;
                                ByteBuf b = (ByteBuf) msg;
                                if (reply != null) {
                                    reply[0] = new byte[b.readableBytes()];
                                    b.readBytes(reply[0]);
                                }
                                b.release();
                                done.complete(new long[] {t, handshake});
                                ctx.close();
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                done.completeExceptionally(new IllegalStateException(v.name()
                                        + ": the server closed the connection first"));
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                done.completeExceptionally(cause);
                                ctx.close();
                            }
                        });
                    }
                }).connect(host, v.port()).channel();
        try {
            return done.get(10, TimeUnit.SECONDS);
        } finally {
            ch.close().await(5, TimeUnit.SECONDS);
        }
    }

    /** A fresh client context: trusts the CA (no host name check: the CA is what is checked, as in the harness). */
    private static SslContext client(Variant v) throws SSLException {
        SslContextBuilder b = SslContextBuilder.forClient().sslProvider(v.provider()).trustManager(v.ca())
                .endpointIdentificationAlgorithm(null).protocols("TLSv1.3", "TLSv1.2");
        if (v.clientCertificate()) {
            b.keyManager(v.key().getPrivate(), v.certificate(), v.ca());
        }
        return b.build();
    }

    @Override
    public void close() {
        clients.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        servers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
