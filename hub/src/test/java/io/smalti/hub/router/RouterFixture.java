package io.smalti.hub.router;

import io.smalti.hub.endpoint.HarnessConnection;
import io.smalti.hub.records.HubRecords;
import io.smalti.hub.testing.OneNodeRing;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A router with default settings on the shared one-node ring, and components connected to it through
 * in-memory harness connections that are closed after each test.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(OneNodeRing.Extension.class)
abstract class RouterFixture {
    Router router;
    HubRecords records;
    final List<HarnessConnection> open = new ArrayList<>();

    /** A connected component: its id and its harness's connection. */
    record Component(String id, HarnessConnection c) {}

    @BeforeAll
    void start(OneNodeRing ring) {
        records = ring.records();
        router = new Router(OneNodeRing.NODE, 1, records, HubSettings.defaults("127.0.0.1", 0));
    }

    @AfterAll
    void stop() {
        router.close();
    }

    @AfterEach
    void disconnect() {
        open.forEach(HarnessConnection::close);
        open.clear();
    }

    Component connect() {
        String id = OneNodeRing.newComponent();
        HarnessConnection c = HarnessConnection.connect(router, id);
        open.add(c);
        return new Component(id, c);
    }
}
