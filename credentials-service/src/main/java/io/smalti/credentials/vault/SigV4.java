package io.smalti.credentials.vault;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AWS Signature Version 4 (header form) as AWS specifies it: canonical request, string to sign, signing key, and the
 * Authorization header. A pure function of the described request, the key and the time; stateless and thread-safe.
 * Checked against AWS's published test suite ({@code src/test/resources/sigv4}).
 */
public final class SigV4 {
    public static final String ALGORITHM = "AWS4-HMAC-SHA256";
    public static final String UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
    public static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);
    private static final Pattern SCOPE_PART = Pattern.compile("[a-z0-9-]{1,64}");
    private static final Pattern METHOD = Pattern.compile("[A-Z]{1,16}");
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}");
    private static final Pattern PAYLOAD_HASH = Pattern.compile("[0-9a-f]{64}|UNSIGNED-PAYLOAD|STREAMING-[A-Z0-9-]{1,64}");
    private static final HexFormat HEX = HexFormat.of();

    private SigV4() {
    }

    /** A header or query parameter; names may repeat. */
    public record Field(String name, String value) {
        public Field {
            if (name == null || value == null) {
                throw new IllegalArgumentException("a header or query parameter needs a name and a value");
            }
        }
    }

    /**
     * What to sign.
     *
     * @param host           signed as the Host header when {@code headers} has none; may be empty if it has one
     * @param path           encoded once here (see the proto's VaultAwsSign.path)
     * @param query          decoded parameters (encoded and sorted here)
     * @param headers        every header to sign, in the order sent
     * @param payloadSha256  the body's SHA-256 in lower-case hex, or {@link #UNSIGNED_PAYLOAD}
     * @param normalizePath  remove . and .. segments and repeated slashes first (not for S3)
     * @param contentSha256Header also sign and add x-amz-content-sha256
     */
    public record Request(String method, String host, String path, List<Field> query, List<Field> headers,
            String payloadSha256, String region, String service, Instant time, boolean normalizePath,
            boolean contentSha256Header) {
        public Request {
            query = List.copyOf(query);
            headers = List.copyOf(headers);
        }
    }

    /** The result: what to add to the request, and the intermediate strings (no secret in them). */
    public record Signed(String canonicalRequest, String stringToSign, String signedHeaders, String signature,
            String authorization, List<Field> headersToAdd) {
    }

    /**
     * Signs {@code r} with an access key.
     *
     * @throws IllegalArgumentException naming what is wrong with the request
     */
    public static Signed sign(String accessKeyId, byte[] secretAccessKey, Request r) {
        check(r);
        String amzDate = AMZ_DATE.format(r.time());
        String date = amzDate.substring(0, 8);
        List<Field> added = new ArrayList<>();
        added.add(new Field("X-Amz-Date", amzDate));
        if (r.contentSha256Header()) {
            added.add(new Field("x-amz-content-sha256", r.payloadSha256()));
        }
        // Lower-cased names, sorted; a repeated name's values joined with commas in the order sent.
        Map<String, List<String>> headers = new TreeMap<>();
        boolean hasHost = false;
        for (Field h : r.headers()) {
            String name = h.name().toLowerCase(Locale.ROOT);
            if (name.equals("x-amz-date") || name.equals("authorization") || (r.contentSha256Header()
                    && name.equals("x-amz-content-sha256"))) {
                throw new IllegalArgumentException("header " + h.name() + " is added by the signer: leave it out");
            }
            hasHost |= name.equals("host");
            headers.computeIfAbsent(name, k -> new ArrayList<>()).add(trim(h.value()));
        }
        if (!hasHost) {
            if (r.host() == null || r.host().isBlank()) {
                throw new IllegalArgumentException("the request needs a host (or a Host header)");
            }
            headers.put("host", List.of(trim(r.host())));
        }
        for (Field h : added) {
            headers.put(h.name().toLowerCase(Locale.ROOT), List.of(h.value()));
        }
        StringBuilder canonicalHeaders = new StringBuilder();
        headers.forEach((name, values) -> canonicalHeaders.append(name).append(':').append(String.join(",", values))
                .append('\n'));
        String signedHeaders = String.join(";", headers.keySet());

        String canonicalRequest = r.method() + '\n'
                + canonicalUri(r.path(), r.normalizePath()) + '\n'
                + canonicalQuery(r.query()) + '\n'
                + canonicalHeaders + '\n'
                + signedHeaders + '\n'
                + r.payloadSha256();
        String scope = date + '/' + r.region() + '/' + r.service() + "/aws4_request";
        String stringToSign = ALGORITHM + '\n' + amzDate + '\n' + scope + '\n' + HEX.formatHex(sha256(utf8(canonicalRequest)));

        byte[] secret = new byte[4 + secretAccessKey.length];
        System.arraycopy("AWS4".getBytes(StandardCharsets.US_ASCII), 0, secret, 0, 4);
        System.arraycopy(secretAccessKey, 0, secret, 4, secretAccessKey.length);
        byte[] key = hmac(secret, utf8(date));
        java.util.Arrays.fill(secret, (byte) 0);
        key = hmac(key, utf8(r.region()));
        key = hmac(key, utf8(r.service()));
        key = hmac(key, utf8("aws4_request"));
        String signature = HEX.formatHex(hmac(key, utf8(stringToSign)));
        String authorization = ALGORITHM + " Credential=" + accessKeyId + '/' + scope + ", SignedHeaders="
                + signedHeaders + ", Signature=" + signature;
        added.add(new Field("Authorization", authorization));
        return new Signed(canonicalRequest, stringToSign, signedHeaders, signature, authorization, List.copyOf(added));
    }

    private static void check(Request r) {
        if (r.method() == null || !METHOD.matcher(r.method()).matches()) {
            throw new IllegalArgumentException("HTTP method must be upper-case letters, not '" + r.method() + "'");
        }
        if (r.path() == null || !r.path().startsWith("/")) {
            throw new IllegalArgumentException("the path must start with '/', not '" + r.path() + "'");
        }
        if (r.region() == null || !SCOPE_PART.matcher(r.region()).matches()) {
            throw new IllegalArgumentException("region must be lower-case letters, digits or '-', not '" + r.region() + "'");
        }
        if (r.service() == null || !SCOPE_PART.matcher(r.service()).matches()) {
            throw new IllegalArgumentException("service must be lower-case letters, digits or '-', not '" + r.service() + "'");
        }
        if (r.time() == null) {
            throw new IllegalArgumentException("the signing time is missing");
        }
        if (r.payloadSha256() == null || !PAYLOAD_HASH.matcher(r.payloadSha256()).matches()) {
            throw new IllegalArgumentException("payload hash must be 64 lower-case hex digits or UNSIGNED-PAYLOAD, not '"
                    + r.payloadSha256() + "'");
        }
        for (Field h : r.headers()) {
            if (!HEADER_NAME.matcher(h.name()).matches()) {
                throw new IllegalArgumentException("bad header name '" + h.name() + "'");
            }
        }
    }

    /** Trims and turns every run of white space (a folded line too) into one space, as the canonical form needs. */
    static String trim(String value) {
        return value.strip().replaceAll("[ \\t\\r\\n]+", " ");
    }

    static String canonicalUri(String path, boolean normalize) {
        return encode(normalize ? normalize(path) : path, false);
    }

    /** RFC 3986 §5.2.4 dot-segment removal, and repeated slashes collapsed; a path that ended in a directory keeps its slash. */
    static String normalize(String path) {
        Deque<String> out = new ArrayDeque<>();
        String[] segments = path.split("/", -1);
        for (String s : segments) {
            if (s.isEmpty() || s.equals(".")) {
                continue;
            }
            if (s.equals("..")) {
                out.pollLast();
            } else {
                out.addLast(s);
            }
        }
        String last = segments[segments.length - 1];
        boolean directory = last.isEmpty() || last.equals(".") || last.equals("..");
        String joined = "/" + String.join("/", out);
        return directory && !out.isEmpty() ? joined + "/" : joined;
    }

    static String canonicalQuery(List<Field> query) {
        // Sorted by encoded name, then by encoded value.
        List<String[]> encoded = new ArrayList<>();
        for (Field f : query) {
            encoded.add(new String[] {encode(f.name(), true), encode(f.value(), true)});
        }
        encoded.sort((a, b) -> {
            int c = a[0].compareTo(b[0]);
            return c != 0 ? c : a[1].compareTo(b[1]);
        });
        StringBuilder b = new StringBuilder();
        for (String[] e : encoded) {
            if (b.length() > 0) {
                b.append('&');
            }
            b.append(e[0]).append('=').append(e[1]);
        }
        return b.toString();
    }

    /** Percent-encodes every UTF-8 byte but the unreserved characters (and '/', in a path), upper-case hex. */
    static String encode(String s, boolean slashToo) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (byte x : utf8(s)) {
            int c = x & 0xff;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
                    || c == '.' || c == '~' || (c == '/' && !slashToo)) {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return b.toString();
    }

    /** The SHA-256 of a body, in the form the payload hash takes. */
    public static String payloadHash(byte[] body) {
        return HEX.formatHex(sha256(body));
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
