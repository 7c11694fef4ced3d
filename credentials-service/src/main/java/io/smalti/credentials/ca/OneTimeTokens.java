package io.smalti.credentials.ca;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * One-time tokens a parent gets for a child's certificate (thesis §4.9): 256 random bits, redeemable once, before
 * they expire. Only their SHA-256 is kept, so a memory dump of the service shows no redeemable token. A pure
 * bookkeeper: time is passed in. Not thread-safe: owned by the credentials service's thread.
 */
public final class OneTimeTokens {
    /** A token and when it stops working. */
    public record Token(String value, Instant expires) {
    }

    /** Why a token was refused. */
    public static final class Refused extends Exception {
        public Refused(String message) {
            super(message);
        }
    }

    private record Entry(Identity identity, Instant expires) {
    }

    private final Duration expiry;
    private final int max;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Entry> outstanding = new HashMap<>();

    /** Tokens live {@code expiry}; at most {@code max} are outstanding (more are refused, not silently dropped). */
    public OneTimeTokens(Duration expiry, int max) {
        if (expiry.isNegative() || expiry.isZero()) {
            throw new IllegalArgumentException("token expiry must be positive, was " + expiry);
        }
        this.expiry = expiry;
        this.max = max;
    }

    /** A new token for {@code identity}. */
    public Token make(Identity identity, Instant now) throws Refused {
        prune(now);
        if (outstanding.size() >= max) {
            throw new Refused(max + " tokens are outstanding (none redeemed or expired yet): refusing more");
        }
        byte[] raw = new byte[32];
        random.nextBytes(raw);
        String value = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        Instant expires = now.plus(expiry);
        outstanding.put(hash(value), new Entry(identity, expires));
        return new Token(value, expires);
    }

    /**
     * Redeems a token: its identity, once.
     *
     * @throws Refused when the token is unknown, was redeemed already, or expired (all three look alike to a guesser)
     */
    public Identity redeem(String token, Instant now) throws Refused {
        Entry e = token == null ? null : outstanding.remove(hash(token));
        if (e == null) {
            throw new Refused("the token is not valid: unknown, already used, or expired");
        }
        if (!now.isBefore(e.expires())) {
            throw new Refused("the token expired at " + e.expires() + " (tokens live " + expiry.toSeconds() + " s)");
        }
        return e.identity();
    }

    /** How many tokens wait to be redeemed. */
    public int outstanding(Instant now) {
        prune(now);
        return outstanding.size();
    }

    private void prune(Instant now) {
        for (Iterator<Entry> it = outstanding.values().iterator(); it.hasNext(); ) {
            if (!now.isBefore(it.next().expires())) {
                it.remove();
            }
        }
    }

    private static String hash(String token) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
