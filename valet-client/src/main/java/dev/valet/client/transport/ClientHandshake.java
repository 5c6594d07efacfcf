package dev.valet.client.transport;

import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.AuthChallenge;
import dev.valet.common.protocol.AuthProof;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Hello;
import dev.valet.common.protocol.HelloOk;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's side of one connection's handshake (docs/protocol.md), the same over every transport: the HELLO to
 * send, with a fresh nonce; then {@link #answer} checks the donor's HELLO_OK and says what AUTH to send. The
 * transport sends the frames and waits for AUTH_OK itself.
 */
public final class ClientHandshake {
    private static final Logger LOG = LoggerFactory.getLogger(ClientHandshake.class);

    private final DonorAddress address;
    private final String identity;
    private final ClusterSecret secret;
    private final byte[] clientNonce = ClusterSecret.freshNonce();
    private volatile boolean authFailed;

    /** @param secret the cluster secret to prove and demand, or {@code null} for none */
    public ClientHandshake(DonorAddress address, String identity, ClusterSecret secret) {
        this.address = address;
        this.identity = identity;
        this.secret = secret;
    }

    public Hello hello() {
        return new Hello(FrameHeader.VERSION, identity, clientNonce);
    }

    /**
     * Whether authentication failed: the donor could not prove the secret, or closed the connection after AUTH (for
     * the client's {@code valet_client_auth_failures} count).
     */
    public boolean authFailed() {
        return authFailed;
    }

    /**
     * Checks the donor's HELLO_OK: its page size, and with a secret its proof.
     *
     * @return the AUTH to send next, or {@code null} when the connection is ready (neither side has a secret)
     * @throws DonorUnavailableException when the donor is refused: it cannot prove the secret, it has none while
     *                                   this client has one, or it demands one this client does not have
     */
    public AuthProof answer(HelloOk ok) {
        if (ok.pageSize() != FrameHeader.PAGE_SIZE) {
            throw new DonorUnavailableException(address + ": page size " + ok.pageSize() + " (this client uses "
                    + FrameHeader.PAGE_SIZE + ")");
        }
        AuthChallenge challenge = ok.auth();
        if (secret == null) {
            if (challenge != null) {
                throw new DonorUnavailableException(address + ": the donor requires authentication; set"
                        + " auth.secretFile to the cluster secret");
            }
            return null;
        }
        if (challenge == null) {
            authFailed = true;
            LOG.warn("{}: donor failed authentication: it has no cluster secret; closing", address);
            throw new DonorUnavailableException(address + ": the donor does not authenticate (it has no cluster"
                    + " secret); refused");
        }
        byte[] donorNonce = challenge.donorNonce();
        if (!ClusterSecret.matches(secret.donorProof(identity, clientNonce, donorNonce), challenge.donorProof())) {
            authFailed = true;
            LOG.warn("{}: donor failed authentication: its proof does not match the cluster secret; closing",
                    address);
            throw new DonorUnavailableException(address + ": the donor's proof does not match the cluster secret;"
                    + " refused");
        }
        return new AuthProof(secret.clientProof(identity, clientNonce, donorNonce));
    }

    /** The failure to report when the donor closes the connection instead of answering AUTH. */
    public DonorUnavailableException refusedAfterAuth(Throwable cause) {
        authFailed = true;
        return new DonorUnavailableException(address + ": the donor closed the connection after AUTH (a different"
                + " cluster secret, or it has limits.maxClients clients already): " + cause.getMessage(), cause);
    }
}
