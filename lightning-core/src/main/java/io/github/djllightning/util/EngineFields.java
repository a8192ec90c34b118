package io.github.djllightning.util;

import java.lang.reflect.Field;

/**
 * Fields of the engine's classes that DJL's API does not expose, made writable once. A DJL version where a field is
 * missing or of another type gives null, and the caller keeps to DJL's API.
 */
public final class EngineFields {

    private EngineFields() {}

    /**
     * Finds a declared field and makes it accessible.
     *
     * @param owner the class that declares it
     * @param name its name
     * @param type the type it must have
     * @return the field, or null when there is no such field of that type or it cannot be made accessible
     */
    public static Field find(Class<?> owner, String name, Class<?> type) {
        try {
            Field field = owner.getDeclaredField(name);
            if (field.getType() != type) {
                return null;
            }
            field.setAccessible(true);
            return field;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
