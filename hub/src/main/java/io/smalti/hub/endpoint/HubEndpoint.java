package io.smalti.hub.endpoint;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.smalti.hub.router.HubSettings;
import io.smalti.hub.router.Router;
import java.net.InetSocketAddress;

/**
 * The hub's TCP endpoint for harnesses: TLS with the node's certificate (client certificates checked at Hello),
 * 4-byte length framing with the configured maximum, then a {@link HarnessHandler} per connection. Epoll on Linux, NIO elsewhere.
 * Thread-safe; {@link #close} stops it.
 */
public final class HubEndpoint implements AutoCloseable {
    private final EventLoopGroup group;
    private final ServerBootstrap bootstrap;
    private final Channel server;
    private final InetSocketAddress address;
    private final java.util.List<Channel> more = new java.util.concurrent.CopyOnWriteArrayList<>();

    private HubEndpoint(EventLoopGroup group, ServerBootstrap bootstrap, Channel server) {
        this.group = group;
        this.bootstrap = bootstrap;
        this.server = server;
        this.address = (InetSocketAddress) server.localAddress();
    }

    /**
     * Listens on another address too, on the same port: e.g. the node bridge, where harnesses in their own
     * network namespaces reach the hub.
     *
     * @throws IllegalStateException saying which address could not be bound
     */
    public void listenAlso(String host) {
        try {
            more.add(bootstrap.bind(host, address.getPort()).syncUninterruptibly().channel());
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot listen for harnesses on " + host + ":" + address.getPort() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Binds the endpoint.
     *
     * @throws IllegalStateException saying which address could not be bound, or why TLS could not start
     */
    public static HubEndpoint start(HubSettings settings, HubTls tls, Router router) {
        return start(settings, tls, CredentialUse.NONE, router);
    }

    /** {@link #start(HubSettings, HubTls, Router)} with the node's vault for components. */
    public static HubEndpoint start(HubSettings settings, HubTls tls, CredentialUse vault, Router router) {
        boolean epoll = Epoll.isAvailable();
        // Few event loops: the hub's work per frame is small, and a frame passed between two connections on
        // different loops costs a thread wake-up (on 2 cores, one loop beat two by a quarter on call latency).
        int threads = settings.effectiveIoThreads();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads,
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        try {
            ServerBootstrap bootstrap = new ServerBootstrap().group(group)
                    .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                            new WriteBufferWaterMark(settings.queueLowWater(), settings.queueHighWater()))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline()
                                    .addLast("tls", tls.serverContext().newHandler(ch.alloc()))
                                    .addLast("frames", frameDecoder(settings.maxFrame()))
                                    .addLast("encoder", FrameEncoder.INSTANCE)
                                    .addLast("harness", new HarnessHandler(router, tls, vault, settings.helloTimeout()));
                        }
                    });
            Channel server = bootstrap.bind(settings.host(), settings.port()).syncUninterruptibly().channel();
            return new HubEndpoint(group, bootstrap, server);
        } catch (RuntimeException e) {
            group.shutdownGracefully();
            throw new IllegalStateException("cannot listen for harnesses on " + settings.host() + ":" + settings.port()
                    + ": " + e.getMessage(), e);
        }
    }

    /** Splits frames by their 4-byte length; {@code maxFrame} bounds the frame, the prefix not counted. */
    static LengthFieldBasedFrameDecoder frameDecoder(int maxFrame) {
        return new LengthFieldBasedFrameDecoder(maxFrame + 4, 0, 4, 0, 4);
    }

    public InetSocketAddress address() {
        return address;
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        more.forEach(c -> c.close().syncUninterruptibly());
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
