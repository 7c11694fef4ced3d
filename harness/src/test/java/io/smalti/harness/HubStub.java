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
import io.netty.handler.ssl.util.SelfSignedCertificate;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Welcome;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** A TLS hub for the end-to-end tests: answers Hello, queues what harnesses send, sends frames on demand. */
final class HubStub implements AutoCloseable {
    /** One harness connection. */
    static final class Conn {
        final Channel channel;
        final Frame hello;
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

    HubStub(SelfSignedCertificate cert) throws Exception {
        pem = HarnessConfigTest.pem(cert);
        SslContext ssl = SslContextBuilder.forServer(cert.certificate(), cert.privateKey()).build();
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
                                if (conn == null) {
                                    conn = new Conn(ctx.channel(), frame);
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
