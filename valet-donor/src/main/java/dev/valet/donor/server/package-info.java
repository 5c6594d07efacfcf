/** The donor's network side: the netty server and the per-connection protocol handler. */
package dev.valet.donor.server;
