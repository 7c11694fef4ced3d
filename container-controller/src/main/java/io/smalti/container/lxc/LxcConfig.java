package io.smalti.container.lxc;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The ordered configuration items of one container, as given to {@code set_config_item}. Not thread-safe. */
final class LxcConfig {
    private final List<Map.Entry<String, String>> items = new ArrayList<>();

    LxcConfig set(String key, String value) {
        items.add(Map.entry(key, value));
        return this;
    }

    List<Map.Entry<String, String>> items() {
        return List.copyOf(items);
    }
}
