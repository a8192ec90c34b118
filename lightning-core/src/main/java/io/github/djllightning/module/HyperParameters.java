package io.github.djllightning.module;

import java.lang.reflect.RecordComponent;
import java.util.LinkedHashMap;
import java.util.Map;

/** Turns what a user passes to {@code saveHyperparameters} into an ordered name-to-value map. */
final class HyperParameters {

    private HyperParameters() {}

    static Map<String, Object> toMap(Object recordOrMap) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (recordOrMap instanceof Map) {
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) recordOrMap).entrySet()) {
                if (!(entry.getKey() instanceof String)) {
                    throw new IllegalArgumentException(
                            "saveHyperparameters: keys must be strings, got " + entry.getKey());
                }
                out.put((String) entry.getKey(), entry.getValue());
            }
            return out;
        }
        if (recordOrMap != null && recordOrMap.getClass().isRecord()) {
            for (RecordComponent component : recordOrMap.getClass().getRecordComponents()) {
                try {
                    component.getAccessor().setAccessible(true);
                    out.put(component.getName(), component.getAccessor().invoke(recordOrMap));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalArgumentException(
                            "saveHyperparameters: cannot read " + component.getName() + " of " + recordOrMap, e);
                }
            }
            return out;
        }
        throw new IllegalArgumentException(
                "saveHyperparameters takes a record or a Map<String, ?>, got "
                        + (recordOrMap == null ? "null" : recordOrMap.getClass().getName()));
    }
}
