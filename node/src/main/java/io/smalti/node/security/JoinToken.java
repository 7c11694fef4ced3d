package io.smalti.node.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.smalti.credentials.Files2;
import io.smalti.credentials.MasterKey;
import io.smalti.credentials.ca.ClusterCa;
import io.smalti.credentials.ca.KeyAlgorithm;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;

/**
 * A one-time join token for a new machine: {@code smalti-join:} and base64url of {@code {"api", "token", "ca"}}, the
 * API of the node that made it, the credentials service's one-time token (bound to the new node's name) and the
 * SHA-256 of the cluster CA certificate. The new node trusts the API by that fingerprint (it has no CA yet), redeems
 * the token once and receives the cluster's CA directory (certificate, sealed key, key parameters): the key stays
 * sealed, so the new node still needs the master key file from the operator. Immutable.
 */
public record JoinToken(String api, String token, String caSha256) {
    private static final String PREFIX = "smalti-join:";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The token's text, as {@code smalti cluster join-token} prints it. */
    public String text() {
        ObjectNode o = JSON.createObjectNode().put("api", api).put("token", token).put("ca", caSha256);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(o.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Reads a token's text.
     *
     * @throws IllegalArgumentException saying what is wrong with it
     */
    public static JoinToken parse(String text) {
        String t = text == null ? "" : text.trim();
        if (!t.startsWith(PREFIX)) {
            throw new IllegalArgumentException("a join token starts with " + PREFIX + " (from `smalti cluster join-token`)");
        }
        try {
            JsonNode o = JSON.readTree(Base64.getUrlDecoder().decode(t.substring(PREFIX.length())));
            JoinToken j = new JoinToken(o.path("api").asText(), o.path("token").asText(), o.path("ca").asText());
            if (!j.api.startsWith("https://") || j.token.isEmpty() || !j.caSha256.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException("fields missing");
            }
            return j;
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("the join token is damaged (" + e.getMessage() + ")");
        }
    }

    public static String sha256(X509Certificate cert) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Redeems this token at its node for the cluster's CA directory and writes it into {@code dir}, after checking that
     * {@code masterKeyFile} opens it.
     *
     * @throws IllegalStateException saying why the join failed
     */
    public void fetchCredentials(String nodeName, Path dir, Path masterKeyFile) {
        try {
            HttpClient http = HttpClient.newBuilder().sslContext(pinned()).connectTimeout(Duration.ofSeconds(10)).build();
            ObjectNode body = JSON.createObjectNode().put("token", token).put("name", nodeName)
                    .put("publicKey", Base64.getEncoder().encodeToString(KeyAlgorithm.EC.generate().getPublic().getEncoded()));
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api + "/v1/join"))
                    .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
            JsonNode answer = JSON.readTree(r.body());
            if (r.statusCode() != 200) {
                throw new IllegalStateException(api + " refused the join token: " + answer.path("error").asText(r.body()));
            }
            byte[] ca = answer.path("ca").asText().getBytes(StandardCharsets.US_ASCII);
            if (!sha256(io.smalti.credentials.ca.Pem.parseCertificate(ca)).equals(caSha256)) {
                throw new IllegalStateException(api + " sent a CA certificate that is not the token's");
            }
            Files2.writePrivate(dir.resolve(MasterKey.PARAMS_FILE), Base64.getDecoder().decode(answer.path("masterParams").asText()));
            Files2.writePrivate(dir.resolve(ClusterCa.KEY_FILE), Base64.getDecoder().decode(answer.path("caKey").asText()));
            Files2.writePrivate(dir.resolve(ClusterCa.CERTIFICATE_FILE), ca);
            // Fail here, not in the service: the operator must give this machine the cluster's master key file too.
            ClusterCa.open(dir, MasterKey.open(dir, MasterKey.readSecret(masterKeyFile)));
        } catch (IOException e) {
            throw new IllegalStateException("cannot reach " + api + " to join: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while joining");
        } catch (io.smalti.credentials.CredentialsException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot join with the token: " + e.getMessage(), e);
        }
    }

    /** Trusts the API's certificate chain only if it contains the CA of the token's fingerprint and chains to it. */
    private SSLContext pinned() {
        X509TrustManager tm = new X509TrustManager() {
            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                for (X509Certificate c : chain) {
                    if (sha256(c).equals(caSha256)) {
                        try {
                            chain[0].verify(c.getPublicKey());
                            chain[0].checkValidity();
                            return;
                        } catch (GeneralSecurityException e) {
                            throw new CertificateException("the node's certificate was not issued by the token's CA");
                        }
                    }
                }
                throw new CertificateException("the node at " + api + " is not of the token's cluster (CA fingerprint "
                        + caSha256.substring(0, 16) + "...)");
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                throw new CertificateException("not a server");
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new javax.net.ssl.TrustManager[] {tm}, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
