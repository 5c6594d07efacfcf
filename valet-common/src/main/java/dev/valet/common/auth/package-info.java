/**
 * Peer authentication: the shared cluster secret ({@link dev.valet.common.auth.ClusterSecret}) and the
 * HMAC-SHA256 proofs of the HELLO / AUTH handshake (docs/protocol.md, docs/security.md).
 */
package dev.valet.common.auth;
