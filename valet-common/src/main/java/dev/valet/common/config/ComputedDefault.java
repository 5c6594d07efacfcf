package dev.valet.common.config;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a key whose default depends on other keys ({@code failover.deadAfter}: 60s, or {@code donorTimeout} if
 * longer). Its record's constructor computes the value when it is given {@code null}; {@link ConfigLoader} leaves
 * the key out of the defaults it lays the file over, so the constructor sees {@code null} whenever neither the file
 * nor an override sets the key, and computes the default from the keys that were set.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface ComputedDefault {
}
