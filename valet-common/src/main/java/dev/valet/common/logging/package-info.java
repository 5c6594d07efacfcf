/**
 * How every Valet process logs: one dated line per event on standard error, set up in code when logback starts
 * ({@link dev.valet.common.logging.ValetLogConfigurator}).
 */
package dev.valet.common.logging;
