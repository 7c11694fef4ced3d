package io.smalti.bench.load;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a node's CPU goes: reads a JFR recording and attributes every execution sample to the layer of
 * the innermost frame that belongs to a known library (JDK frames count for the library that called
 * them), then prints each layer's share.
 *
 * <pre>
 * java -cp benchmarks.jar io.smalti.bench.load.JfrBreakdown RECORDING.jfr...
 * </pre>
 */
public final class JfrBreakdown {
    /** Package prefix → layer, most specific first. */
    private static final List<String[]> LAYERS = List.of(
            new String[] {"org.h2.", "journal: H2 database"},
            new String[] {"org.postgresql.", "journal: PostgreSQL driver"},
            new String[] {"slick.", "journal: pekko-persistence-jdbc (Slick)"},
            new String[] {"org.apache.pekko.persistence.jdbc.", "journal: pekko-persistence-jdbc (Slick)"},
            new String[] {"com.zaxxer.hikari.", "journal: pekko-persistence-jdbc (Slick)"},
            new String[] {"org.apache.pekko.persistence.", "pekko persistence"},
            new String[] {"org.apache.pekko.http.", "REST API: pekko-http"},
            new String[] {"com.fasterxml.jackson.", "REST API: Jackson"},
            new String[] {"org.apache.pekko.remote.", "network: Artery"},
            new String[] {"org.apache.pekko.io.", "network: Artery"},
            new String[] {"org.apache.pekko.stream.", "network: Artery (streams)"},
            new String[] {"com.google.protobuf.", "serialization: protobuf"},
            new String[] {"io.smalti.", "Smalti"},
            new String[] {"org.apache.pekko.cluster.", "pekko cluster, distributed data"},
            new String[] {"org.apache.pekko.", "actors and dispatch"},
            new String[] {"scala.", "actors and dispatch"},
            new String[] {"ch.qos.logback.", "logging"},
            new String[] {"org.slf4j.", "logging"});

    public static void main(String[] args) throws Exception {
        Map<String, Long> counts = new LinkedHashMap<>();
        long total = 0;
        for (String file : args) {
            for (RecordedEvent e : RecordingFile.readAllEvents(Path.of(file))) {
                if (!e.getEventType().getName().equals("jdk.ExecutionSample") || e.getStackTrace() == null) {
                    continue;
                }
                total++;
                counts.merge(layer(e.getStackTrace().getFrames()), 1L, Long::sum);
            }
        }
        long all = total;
        System.out.printf(Locale.ROOT, "%d CPU samples%n", all);
        counts.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(en -> System.out.printf(Locale.ROOT, "  %5.1f%%  %s%n", 100.0 * en.getValue() / all, en.getKey()));
    }

    private static String layer(List<RecordedFrame> frames) {
        for (RecordedFrame f : frames) {
            if (f.getMethod() == null) {
                continue;
            }
            String type = f.getMethod().getType().getName();
            for (String[] l : LAYERS) {
                if (type.startsWith(l[0])) {
                    return l[1];
                }
            }
        }
        return "JDK only (I/O, timers)";
    }

    private JfrBreakdown() {}
}
