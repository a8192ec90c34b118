package io.github.djllightning.loop;

/** Whether a user class overrides a method of a base class; used at setup only, never per step. */
final class Overrides {

    private Overrides() {}

    static boolean overrides(Object instance, Class<?> base, String name, Class<?>... parameterTypes) {
        try {
            return instance.getClass().getMethod(name, parameterTypes).getDeclaringClass() != base;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }
}
