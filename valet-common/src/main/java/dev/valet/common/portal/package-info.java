/**
 * Donor addresses and the {@code portal.list} file that names them. A client pages only to the donors its
 * portal list names, so this package reads that list strictly: every line is checked, duplicates and a wrong
 * donor count are refused, and each error names the file and line to fix. {@link
 * dev.valet.common.portal.DonorAddress} is also the type of every {@code host:port} in the YAML configuration,
 * so an address is spelled, checked and printed the same way everywhere.
 */
package dev.valet.common.portal;
