package io.smalti.bench.hub;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.ReferenceCountUtil;
import java.io.File;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process of the raw relay chain: either a relay that forwards whole frames between the link it
 * accepts and the link it opens to the next process, without looking inside them, or the echo server at
 * the end of the chain. Netty with epoll and one event-loop thread: the least a process hop can cost.
 *
 * <pre>
 * RelayNode relay LISTEN NEXT CERT KEY     e.g. relay uds:/tmp/r1.sock tls:127.0.0.1:0 cert.pem key.pem
 * RelayNode echo  LISTEN
 * </pre>
 * Links are {@code uds:PATH}, {@code tcp:HOST:PORT} or {@code tls:HOST:PORT} (port 0 picks a free one).
 * Prints {@code READY <address actually bound>} when it accepts connections.
 *
 * <p>Frames: 4-byte big-endian length, then a kind byte, an 8-byte correlation and the payload.
 * Relays split the stream at frame boundaries as the hub must, forward each frame, and flush once per
 * read batch. The echo server answers calls with the same frame and counts casts.
 */
public final class RelayNode {

    static final int MAX_FRAME = 1 << 20;
    static final byte CALL = 1;
    static final byte CAST = 2;
    static final byte RESET = 3;
    static final byte STATS = 4;
    static final int HEADER = 4 + 1 + 8;

    /** A link's transport and address, parsed from {@code uds:PATH}, {@code tcp:HOST:PORT} or {@code tls:HOST:PORT}. */
    record Link(String transport, SocketAddress address) {
        static Link parse(String s) {
            int colon = s.indexOf(':');
            String transport = s.substring(0, colon);
            String rest = s.substring(colon + 1);
            if (transport.equals("uds")) {
                return new Link(transport, new DomainSocketAddress(rest));
            }
            if (!transport.equals("tcp") && !transport.equals("tls")) {
                throw new IllegalArgumentException("link must be uds:, tcp: or tls:, not " + s);
            }
            int port = rest.lastIndexOf(':');
            return new Link(transport, new InetSocketAddress(rest.substring(0, port), Integer.parseInt(rest.substring(port + 1))));
        }

        boolean uds() {
            return transport.equals("uds");
        }

        boolean tls() {
            return transport.equals("tls");
        }

        String format(SocketAddress bound) {
            if (bound instanceof DomainSocketAddress d) {
                return "uds:" + d.path();
            }
            InetSocketAddress i = (InetSocketAddress) bound;
            return transport + ":" + i.getHostString() + ":" + i.getPort();
        }
    }

    public static void main(String[] args) throws Exception {
        if (!Epoll.isAvailable()) {
            throw new IllegalStateException("epoll is not available", Epoll.unavailabilityCause());
        }
        Child.exitWithParent();
        boolean relay = args[0].equals("relay");
        Link listen = Link.parse(args[1]);
        Link next = relay ? Link.parse(args[2]) : null;
        File cert = relay ? new File(args[3]) : null;
        File key = relay ? new File(args[4]) : null;
        // One thread: both channels of a relayed connection live on it, so forwarding never crosses threads.
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        SslContext serverTls = listen.tls() ? SslContextBuilder.forServer(cert, key).build() : null;
        // The certificate is pinned, as a harness pins its hub's; the host name is not what is being trusted.
        SslContext clientTls = next != null && next.tls()
                ? SslContextBuilder.forClient().trustManager(cert).endpointIdentificationAlgorithm(null).build() : null;
        if (listen.uds()) {
            Files.deleteIfExists(Path.of(((DomainSocketAddress) listen.address()).path()));
        }
        ServerBootstrap server = new ServerBootstrap().group(group)
                .channel(listen.uds() ? EpollServerDomainSocketChannel.class : EpollServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (!listen.uds()) {
                            ch.config().setOption(ChannelOption.TCP_NODELAY, true);
                        }
                        ChannelPipeline p = ch.pipeline();
                        if (serverTls != null) {
                            p.addLast(serverTls.newHandler(ch.alloc()));
                        }
                        p.addLast(new LengthFieldBasedFrameDecoder(MAX_FRAME, 0, 4));
                        if (relay) {
                            ch.config().setAutoRead(false);
                            connectNext(ch, next, clientTls);
                        } else {
                            p.addLast(new Echo());
                        }
                    }
                });
        Channel bound = server.bind(listen.address()).sync().channel();
        System.out.println("READY " + listen.format(bound.localAddress()));
        System.out.flush();
        bound.closeFuture().sync();
    }

    /** Opens the link to the next process on the accepted channel's event loop, then splices the two. */
    private static void connectNext(Channel in, Link next, SslContext tls) {
        Bootstrap b = new Bootstrap().group(in.eventLoop())
                .channel(next.uds() ? EpollDomainSocketChannel.class : EpollSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel out) {
                        if (!next.uds()) {
                            out.config().setOption(ChannelOption.TCP_NODELAY, true);
                        }
                        if (tls != null) {
                            out.pipeline().addLast(tls.newHandler(out.alloc()));
                        }
                        out.pipeline().addLast(new LengthFieldBasedFrameDecoder(MAX_FRAME, 0, 4));
                    }
                });
        b.connect(next.address()).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                System.err.println("relay: cannot reach " + next + ": " + f.cause());
                in.close();
                return;
            }
            Channel out = f.channel();
            in.pipeline().addLast(new Splice(out));
            out.pipeline().addLast(new Splice(in));
            in.config().setAutoRead(true);
        });
    }

    /** Forwards frames to the peer channel, flushing once per read batch and pausing reads while the peer is full. */
    private static final class Splice extends ChannelInboundHandlerAdapter {
        private final Channel peer;
        private boolean unflushed;

        Splice(Channel peer) {
            this.peer = peer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            peer.write(msg, peer.voidPromise());
            unflushed = true;
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (unflushed) {
                unflushed = false;
                peer.flush();
            }
            if (!peer.isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            // This channel drained below its low-water mark: the peer may read (and write here) again.
            if (ctx.channel().isWritable()) {
                peer.config().setAutoRead(true);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            peer.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            System.err.println("relay: " + cause);
            ctx.close();
        }
    }

    /** The end of the chain: echoes calls, counts casts, answers resets and counter queries. */
    private static final class Echo extends ChannelInboundHandlerAdapter {
        private long count;
        private long first;
        private long last;
        private boolean unflushed;
        private boolean counted;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            byte kind = frame.getByte(frame.readerIndex() + 4);
            if (kind == CAST) {
                if (count++ == 0) {
                    first = System.nanoTime();
                }
                counted = true;
                ReferenceCountUtil.release(frame);
                return;
            }
            if (kind == RESET) {
                count = 0;
                first = 0;
                last = 0;
                counted = false;
            } else if (kind == STATS) {
                if (counted) {
                    // Casts of this read batch came before the query; their time is now.
                    counted = false;
                    last = System.nanoTime();
                }
                ByteBuf answer = ctx.alloc().buffer(HEADER + 24);
                answer.writeInt(1 + 8 + 24).writeByte(STATS).writeLong(frame.getLong(frame.readerIndex() + 5))
                        .writeLong(count).writeLong(first).writeLong(last);
                ReferenceCountUtil.release(frame);
                frame = answer;
            }
            ctx.write(frame, ctx.voidPromise());
            unflushed = true;
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            // One clock read per batch, not per cast: close enough for a rate over seconds.
            if (counted) {
                counted = false;
                last = System.nanoTime();
            }
            if (unflushed) {
                unflushed = false;
                ctx.flush();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            System.err.println("echo: " + cause);
            ctx.close();
        }
    }

    private RelayNode() {}
}
