package io.smalti.credentials.vault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** AWS's published SigV4 test suite (src/test/resources/sigv4, see its README) and the SigV4 documentation's example. */
class SigV4Test {
    static Stream<String> cases() throws IOException {
        String list = read("cases.txt");
        return list.lines().map(String::strip).filter(l -> !l.isEmpty());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void signsEachCaseOfAwsTestSuiteAsPublished(String name) throws IOException {
        JsonNode context = new ObjectMapper().readTree(read(name + "/context.json"));
        Parsed request = parse(read(name + "/request.txt"));
        boolean signBody = context.path("sign_body").asBoolean();
        SigV4.Request r = new SigV4.Request(request.method, "", request.path, request.query, request.headers,
                SigV4.payloadHash(request.body.getBytes(StandardCharsets.UTF_8)), context.get("region").asText(),
                context.get("service").asText(), Instant.parse(context.get("timestamp").asText()),
                context.get("normalize").asBoolean(), signBody);
        SigV4.Signed signed = SigV4.sign(context.at("/credentials/access_key_id").asText(),
                context.at("/credentials/secret_access_key").asText().getBytes(StandardCharsets.UTF_8), r);

        assertEquals(read(name + "/header-canonical-request.txt"), signed.canonicalRequest(), "canonical request");
        assertEquals(read(name + "/header-string-to-sign.txt"), signed.stringToSign(), "string to sign");
        // The signed request is the request plus the headers the signer adds, Authorization last.
        Parsed expected = parse(read(name + "/header-signed-request.txt"));
        List<SigV4.Field> added = expected.headers.subList(request.headers.size(), expected.headers.size());
        assertEquals(added.size(), signed.headersToAdd().size(), "headers added: " + added);
        for (int i = 0; i < added.size(); i++) {
            assertTrue(added.get(i).name().equalsIgnoreCase(signed.headersToAdd().get(i).name()), added.get(i).name());
            assertEquals(added.get(i).value(), signed.headersToAdd().get(i).value());
        }
        assertEquals(added.get(added.size() - 1).value(), signed.authorization());
    }

    @Test
    void signsTheIamListUsersExampleOfAwsSigV4Documentation() {
        // docs.aws.amazon.com, "Examples of the complete Signature Version 4 signing process" (GET ListUsers).
        SigV4.Signed signed = SigV4.sign("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".getBytes(StandardCharsets.UTF_8),
                new SigV4.Request("GET", "iam.amazonaws.com", "/",
                        List.of(new SigV4.Field("Action", "ListUsers"), new SigV4.Field("Version", "2010-05-08")),
                        List.of(new SigV4.Field("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")),
                        SigV4.EMPTY_SHA256, "us-east-1", "iam", Instant.parse("2015-08-30T12:36:00Z"), true, false));
        assertEquals("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
                + "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59", signed.stringToSign());
        assertEquals("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date, "
                + "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7", signed.authorization());
    }

    @Test
    void aBadRequestIsRefusedSayingWhatIsWrong() {
        byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        Instant t = Instant.parse("2015-08-30T12:36:00Z");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SigV4.sign("A", key, new SigV4.Request("GET", "h",
                "nopath", List.of(), List.of(), SigV4.EMPTY_SHA256, "us-east-1", "s3", t, false, false)))
                .getMessage().contains("path must start with '/'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SigV4.sign("A", key, new SigV4.Request("GET", "h",
                "/", List.of(), List.of(new SigV4.Field("X-Amz-Date", "x")), SigV4.EMPTY_SHA256, "us-east-1", "s3", t,
                false, false))).getMessage().contains("added by the signer"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SigV4.sign("A", key, new SigV4.Request("GET", "",
                "/", List.of(), List.of(), SigV4.EMPTY_SHA256, "us-east-1", "s3", t, false, false)))
                .getMessage().contains("needs a host"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SigV4.sign("A", key, new SigV4.Request("GET", "h",
                "/", List.of(), List.of(), "abc", "us-east-1", "s3", t, false, false))).getMessage().contains("payload hash"));
    }

    private record Parsed(String method, String path, List<SigV4.Field> query, List<SigV4.Field> headers, String body) {
    }

    /** Reads a request of the suite: "METHOD PATH[?QUERY] HTTP/1.1", headers (a line starting with white space continues one), a blank line, the body. */
    private static Parsed parse(String text) {
        int end = text.indexOf('\n');
        String line = text.substring(0, end);
        String target = line.substring(line.indexOf(' ') + 1, line.lastIndexOf(" HTTP/"));
        String path = target;
        List<SigV4.Field> query = new ArrayList<>();
        int q = target.indexOf('?');
        if (q >= 0) {
            path = target.substring(0, q);
            for (String p : target.substring(q + 1).split("&")) {
                int eq = p.indexOf('=');
                String n = eq < 0 ? p : p.substring(0, eq);
                String v = eq < 0 ? "" : p.substring(eq + 1);
                query.add(new SigV4.Field(decode(n), decode(v)));
            }
        }
        List<SigV4.Field> headers = new ArrayList<>();
        String rest = text.substring(end + 1);
        String body = "";
        List<String> lines = new ArrayList<>(List.of(rest.split("\n", -1)));
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isEmpty()) {
                body = String.join("\n", lines.subList(i + 1, lines.size()));
                break;
            }
            if (Character.isWhitespace(l.charAt(0)) && !headers.isEmpty()) {
                SigV4.Field last = headers.remove(headers.size() - 1);
                headers.add(new SigV4.Field(last.name(), last.value() + "\n" + l));
            } else {
                int colon = l.indexOf(':');
                headers.add(new SigV4.Field(l.substring(0, colon), l.substring(colon + 1)));
            }
        }
        return new Parsed(line.substring(0, line.indexOf(' ')), path, query, headers, body);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String read(String resource) throws IOException {
        try (InputStream in = SigV4Test.class.getResourceAsStream("/sigv4/" + resource)) {
            if (in == null) {
                throw new IOException("no test resource sigv4/" + resource);
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toString(StandardCharsets.UTF_8);
        }
    }
}
