package io.smalti.container;

/** An IPv4 subnet in CIDR form with the address arithmetic the bridge network needs. Immutable. */
public record Subnet(int network, int prefix) {

    public static Subnet parse(String cidr) {
        String[] parts = cidr == null ? new String[0] : cidr.split("/");
        if (parts.length != 2) {
            throw new IllegalArgumentException("subnet: expected a.b.c.d/prefix, got \"" + cidr + "\"");
        }
        int prefix;
        try {
            prefix = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("subnet: bad prefix in \"" + cidr + "\"");
        }
        if (prefix < 8 || prefix > 29) {
            throw new IllegalArgumentException("subnet: prefix /" + prefix + " in \"" + cidr + "\" must be 8..29");
        }
        int address = toInt(parts[0], cidr);
        int mask = (int) (0xffffffffL << (32 - prefix));
        return new Subnet(address & mask, prefix);
    }

    private static int toInt(String dotted, String cidr) {
        String[] b = dotted.split("\\.");
        if (b.length != 4) {
            throw new IllegalArgumentException("subnet: bad address in \"" + cidr + "\"");
        }
        int v = 0;
        for (String s : b) {
            int x;
            try {
                x = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("subnet: bad address in \"" + cidr + "\"");
            }
            if (x < 0 || x > 255) {
                throw new IllegalArgumentException("subnet: bad address in \"" + cidr + "\"");
            }
            v = (v << 8) | x;
        }
        return v;
    }

    public static String format(int address) {
        return ((address >>> 24) & 255) + "." + ((address >>> 16) & 255) + "." + ((address >>> 8) & 255) + "."
                + (address & 255);
    }

    /** The n-th address of the subnet (1 = the bridge). */
    public String host(int n) {
        if (n < 1 || n >= size() - 1) {
            throw new IllegalArgumentException("host " + n + " is outside " + this);
        }
        return format(network + n);
    }

    public int size() {
        return 1 << (32 - prefix);
    }

    public String gateway() {
        return host(1);
    }

    public String broadcast() {
        return format(network + size() - 1);
    }

    @Override
    public String toString() {
        return format(network) + "/" + prefix;
    }
}
