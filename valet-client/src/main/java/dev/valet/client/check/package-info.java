/**
 * The checking client: writes known pages to donors, reads them back and verifies each byte. The tests use it now;
 * {@code valet check} runs it from the command line.
 */
package dev.valet.client.check;
