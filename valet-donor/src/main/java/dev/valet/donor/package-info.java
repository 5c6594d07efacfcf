/**
 * The donor daemon, {@code valet donor}: lends its host's idle memory as slabs to Valet clients. Rooms:
 * {@code server} (netty server and protocol handler), {@code store} (the lent slabs), {@code memory} (the host's
 * free memory and its trend).
 */
package dev.valet.donor;
