package io.smalti.ring.vnode;

import io.smalti.ring.Ring;
import io.smalti.ring.id.Category;
import io.smalti.ring.id.Id;

/**
 * Which vnode a record key belongs to: a key that is an {@link Id}'s text form, or {@code <kind>/<id>}, lies
 * where the id does (so a component's records sit on its own vnode, its primary controller); any other
 * key is hashed like a record name.
 */
public final class KeySpace {
    private KeySpace() {}

    public static int vnode(Ring ring, String key) {
        int slash = key.indexOf('/');
        String idPart = slash >= 0 && key.length() - slash - 1 == Id.TEXT_LENGTH ? key.substring(slash + 1) : key;
        if (idPart.length() == Id.TEXT_LENGTH && isHex(idPart)) {
            try {
                return ring.vnodeOf(Id.parse(idPart));
            } catch (IllegalArgumentException notAnId) {
                // hex but an unknown category: treat it as a name
            }
        }
        return ring.vnodeOf(Id.ofName(Category.RECORD, key));
    }

    private static boolean isHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
                return false;
            }
        }
        return true;
    }
}
