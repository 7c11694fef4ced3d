package io.smalti.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ManifestTest {
    static final String MINIMAL = "{'name':'echo','version':'1.0','run':{'command':['java','-cp','lib/*','Echo']}}";

    static byte[] json(String s) {
        return s.replace('\'', '"').getBytes(StandardCharsets.UTF_8);
    }

    /** The minimal manifest with {@code extra} fields added at the top level. */
    static byte[] with(String extra) {
        return json(MINIMAL.substring(0, MINIMAL.length() - 1) + "," + extra + "}");
    }

    private static void refused(String expected, byte[] json) {
        BundleException e = assertThrows(BundleException.class, () -> Manifest.parse(json));
        assertEquals(expected, e.getMessage());
    }

    @Test
    void minimalManifestGetsTheDefaults() {
        Manifest m = Manifest.parse(json(MINIMAL));
        assertEquals("echo", m.name());
        assertEquals("1.0", m.version());
        assertEquals(List.of("java", "-cp", "lib/*", "Echo"), m.run().command());
        assertEquals(Map.of(), m.run().environment());
        assertEquals(".", m.run().workingDirectory());
        assertEquals(256L << 20, m.resources().memoryBytes());
        assertEquals(1.0, m.resources().cpu());
        assertEquals(256, m.resources().pids());
        assertEquals(512L << 20, m.resources().diskBytes());
        assertTrue(m.runtimes().isEmpty() && m.mounts().isEmpty() && m.endpoints().isEmpty() && m.groups().isEmpty());
        assertEquals(0, m.config().size());
        assertTrue(m.health().isEmpty() && m.adapter().isEmpty());
    }

    @Test
    void fullManifestRoundTrips() {
        Manifest m = Manifest.parse(with("'resources':{'memory':'1G','cpu':0.5,'pids':128,'disk':'64M'},"
                + "'runtimes':['java'],'mounts':[{'host':'/srv/data','path':'/data'}],"
                + "'endpoints':[{'name':'http','port':8080,'protocol':'tcp'},{'name':'dns','port':53,'protocol':'udp'}],"
                + "'groups':['echo','a group/with spaces'],'config':{'greeting':'hi','n':[1,2]},"
                + "'health':{'call':'ping'},"
                + "'adapter':{'templates':[{'source':'conf/app.tmpl','target':'conf/app.conf'}],'logFormat':'json'}"));
        assertEquals(1L << 30, m.resources().memoryBytes());
        assertEquals(new Manifest.Mount("/srv/data", "/data"), m.mounts().get(0));
        assertEquals(new Manifest.Endpoint("dns", 53, "udp"), m.endpoints().get(1));
        assertEquals(new Manifest.Health("ping", 10, 2), m.health().orElseThrow());
        Manifest.Adapter a = m.adapter().orElseThrow();
        assertEquals("TERM", a.stopSignal());
        assertEquals("HUP", a.reloadSignal());
        assertEquals("json", a.logFormat());
        assertEquals("hi", m.config().path("greeting").asText());
        m.config().put("greeting", "changed"); // a copy: the manifest does not change
        assertEquals("hi", m.config().path("greeting").asText());

        Manifest again = Manifest.parse(m.toJson());
        assertEquals(m, again);
        assertEquals(new String(m.toJson(), StandardCharsets.UTF_8), new String(again.toJson(), StandardCharsets.UTF_8));
        assertEquals(Manifest.parse(json(MINIMAL)), Manifest.parse(Manifest.parse(json(MINIMAL)).toJson()));
    }

    @Test
    void eachErrorNamesTheField() {
        BundleException bad = assertThrows(BundleException.class, () -> Manifest.parse(json("{")));
        assertTrue(bad.getMessage().startsWith("bundle.json: not valid JSON: "), bad.getMessage());
        refused("bundle.json: must be a JSON object", json("[]"));
        refused("name: required", json("{'version':'1','run':{'command':['x']}}"));
        refused("name: must be 1 to 63 of a-z, 0-9 and '-', starting with a letter or digit",
                json("{'name':'Echo','version':'1','run':{'command':['x']}}"));
        refused("name: must be a string", json("{'name':7,'version':'1','run':{'command':['x']}}"));
        refused("version: must be 1 to 64 characters, no control characters",
                json("{'name':'e','version':'','run':{'command':['x']}}"));
        refused("version: must be 1 to 64 characters, no control characters",
                json("{'name':'e','version':'" + "1".repeat(65) + "','run':{'command':['x']}}"));
        refused("run: required", json("{'name':'e','version':'1'}"));
        refused("run.command: required: a non-empty list of strings", json("{'name':'e','version':'1','run':{}}"));
        refused("run.command[1]: must be a string", json("{'name':'e','version':'1','run':{'command':['x',1]}}"));
        refused("run.environment.1X: not a valid environment variable name",
                json("{'name':'e','version':'1','run':{'command':['x'],'environment':{'1X':'y'}}}"));
        refused("run.environment.X: must be a string",
                json("{'name':'e','version':'1','run':{'command':['x'],'environment':{'X':1}}}"));
        refused("run.workingDirectory: must be a relative path inside the bundle, without '..'",
                json("{'name':'e','version':'1','run':{'command':['x'],'workingDirectory':'a/../..'}}"));
        refused("run.workingDirectory: must be a relative path inside the bundle",
                json("{'name':'e','version':'1','run':{'command':['x'],'workingDirectory':'/etc'}}"));
        refused("run.cmd: unknown field", json("{'name':'e','version':'1','run':{'command':['x'],'cmd':1}}"));
        refused("resources.memory: must be like 256M (a whole number with K, M, G or T)",
                with("'resources':{'memory':'lots'}"));
        refused("resources.disk: must be like 256M (a whole number with K, M, G or T)",
                with("'resources':{'disk':'1.5G'}"));
        refused("resources.cpu: must be a number of cores above 0, like 0.5", with("'resources':{'cpu':0}"));
        refused("resources.cpu: must be a number", with("'resources':{'cpu':'1'}"));
        refused("resources.pids: must be a whole number from 1 to 4194304", with("'resources':{'pids':0}"));
        refused("resources.swap: unknown field", with("'resources':{'swap':'1G'}"));
        refused("runtimes[0]: unknown runtime 'python' (nodes provide: java)", with("'runtimes':['python']"));
        refused("mounts[0].host: must be an absolute, normalized path like /opt/data",
                with("'mounts':[{'host':'data','path':'/data'}]"));
        refused("mounts[0].path: must be an absolute, normalized path like /opt/data",
                with("'mounts':[{'host':'/data','path':'/a/../etc'}]"));
        refused("mounts[0].path: must be an absolute, normalized path like /opt/data",
                with("'mounts':[{'host':'/data','path':'/a/'}]"));
        refused("mounts[0].path: required", with("'mounts':[{'host':'/data'}]"));
        refused("mounts[0]: must be an object", with("'mounts':['/data']"));
        refused("endpoints[0].port: must be a whole number from 1 to 65535",
                with("'endpoints':[{'name':'http','port':70000}]"));
        refused("endpoints[0].port: required", with("'endpoints':[{'name':'http'}]"));
        refused("endpoints[0].protocol: must be tcp or udp",
                with("'endpoints':[{'name':'http','port':80,'protocol':'sctp'}]"));
        refused("endpoints[1].name: duplicate endpoint name 'http'",
                with("'endpoints':[{'name':'http','port':80},{'name':'http','port':81}]"));
        refused("groups[0]: must be 1 to 200 characters, no control characters", with("'groups':['']"));
        refused("groups[0]: must be 1 to 200 characters, no control characters", with("'groups':['a\\nb']"));
        refused("groups[0]: must be 1 to 200 characters, no control characters",
                with("'groups':['" + "g".repeat(201) + "']"));
        refused("config: must be an object", with("'config':[1]"));
        refused("health.call: required", with("'health':{}"));
        refused("health.timeoutSeconds: must be a whole number from 1 to 86400",
                with("'health':{'call':'ping','timeoutSeconds':0}"));
        refused("adapter.templates[0].target: must be a relative path inside the bundle, without '..'",
                with("'adapter':{'templates':[{'source':'a','target':'../x'}]}"));
        refused("adapter.stopSignal: must be one of HUP, INT, KILL, QUIT, TERM, USR1, USR2, WINCH",
                with("'adapter':{'stopSignal':'SIGTERM'}"));
        refused("adapter.logFormat: must be lines or json", with("'adapter':{'logFormat':'xml'}"));
        refused("nmae: unknown field", with("'nmae':'x'"));
    }

    @Test
    void duplicateKeysAreRefused() {
        BundleException e = assertThrows(BundleException.class, () -> Manifest.parse(with("'name':'other'")));
        assertTrue(e.getMessage().startsWith("bundle.json: not valid JSON: Duplicate field 'name'"), e.getMessage());
    }
}
