package dev.valet.common.crypto;

import dev.valet.common.protocol.FrameHeader;
import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;

/**
 * AES-256-GCM over single 4096-byte pages (docs/security.md, "Page encryption").
 *
 * <ul>
 *   <li>Nonce (96 bits): {@code u32 page ‖ u64 version}, big-endian, where {@code page} is the page's number in the
 *       swap space ({@code slabId × pagesPerSlab + pageInSlab}, below 2<sup>31</sup>) and {@code version} the
 *       version the engine gave this write. A (page, version) pair is written once per key: the nonce never
 *       repeats (the proof is in docs/security.md).</li>
 *   <li>Additional data: {@code u64 slabId ‖ u32 pageInSlab ‖ u64 version ‖ identity (UTF-8)}: a page moved to
 *       another place, another version, or another identity's slab fails authentication.</li>
 *   <li>Tag: 16 bytes, stored beside the page (the PageBatch entry header, the donor's per-page metadata).</li>
 * </ul>
 *
 * <p>One {@link Cipher} per thread, reused; the pages go through two scratch arrays of the thread (copied in and
 * out by memory copy), so nothing of the caller's is wrapped. Through the JDK 17 provider, byte arrays cost a
 * third of what direct {@code ByteBuffer}s do: about 1,000 bytes of short-lived heap per page against 3,100
 * (measured by {@code PageCipherTest}); 136 of them are {@code init}'s (a new {@code GCMParameterSpec} and its copy
 * of the IV: there is no reusable spec in the API), the rest the provider's own per-operation state.
 */
public final class PageCipher {
    public static final int TAG_BYTES = 16;
    public static final int NONCE_BYTES = 12;
    private static final int PAGE = FrameHeader.PAGE_SIZE;
    private static final String TRANSFORMATION = "AES/GCM/NoPadding";

    private final PageKey key;
    private final long pagesPerSlab;
    private final byte[] identity;
    private final ThreadLocal<Worker> workers = ThreadLocal.withInitial(this::newWorker);

    /**
     * @param pagesPerSlab the client's pages per slab, so a (slab, page in slab) names one page of the swap space
     * @param identity     the client identity, bound into every page's additional data
     */
    public PageCipher(PageKey key, long pagesPerSlab, String identity) {
        if (pagesPerSlab < 1) {
            throw new IllegalArgumentException("pagesPerSlab " + pagesPerSlab);
        }
        this.key = key;
        this.pagesPerSlab = pagesPerSlab;
        this.identity = identity.getBytes(StandardCharsets.UTF_8);
        workers.get(); // fail now, not on the first page, if the JDK lacks AES-GCM
    }

    public PageKey key() {
        return key;
    }

    /** The 96-bit nonce of a page's version, written to {@code nonce[0 .. 12)}. */
    public void nonce(long slabId, long pageInSlab, long version, byte[] nonce) {
        long page = slabId * pagesPerSlab + pageInSlab;
        if (page < 0 || page > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("page " + page + " does not fit the 32-bit nonce field");
        }
        putInt(nonce, 0, (int) page);
        putLong(nonce, 4, version);
    }

    /**
     * Encrypts the page at {@code src[srcIndex ..]} into {@code dst[dstIndex ..]} (4096 bytes) and its tag into
     * {@code tag[tagIndex ..]} (16 bytes). Absolute indexes; reader and writer indexes are untouched.
     */
    public void encrypt(long slabId, long pageInSlab, long version, ByteBuf src, int srcIndex, ByteBuf dst,
                        int dstIndex, ByteBuf tag, int tagIndex) {
        Worker w = workers.get();
        src.getBytes(srcIndex, w.in, 0, PAGE);
        try {
            w.init(Cipher.ENCRYPT_MODE, slabId, pageInSlab, version);
            w.cipher.doFinal(w.in, 0, PAGE, w.out, 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed to encrypt page " + pageInSlab + " of slab " + slabId,
                    e);
        }
        dst.setBytes(dstIndex, w.out, 0, PAGE);
        tag.setBytes(tagIndex, w.out, PAGE, TAG_BYTES);
    }

    /**
     * Authenticates and decrypts the page at {@code src[srcIndex ..]} with its tag at {@code tag[tagIndex ..]} into
     * {@code dst[dstIndex ..]}. Returns false, with nothing written to {@code dst}, when the page does not
     * authenticate: it was altered, it is another page's or version's, or it was written under another key.
     */
    public boolean decrypt(long slabId, long pageInSlab, long version, ByteBuf src, int srcIndex, ByteBuf tag,
                           int tagIndex, ByteBuf dst, int dstIndex) {
        Worker w = workers.get();
        src.getBytes(srcIndex, w.in, 0, PAGE);
        tag.getBytes(tagIndex, w.in, PAGE, TAG_BYTES);
        try {
            w.init(Cipher.DECRYPT_MODE, slabId, pageInSlab, version);
            w.cipher.doFinal(w.in, 0, PAGE + TAG_BYTES, w.out, 0);
        } catch (AEADBadTagException e) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed to decrypt page " + pageInSlab + " of slab " + slabId,
                    e);
        }
        dst.setBytes(dstIndex, w.out, 0, PAGE);
        return true;
    }

    private Worker newWorker() {
        try {
            return new Worker(Cipher.getInstance(TRANSFORMATION));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(TRANSFORMATION + " unavailable in this JDK", e);
        }
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    private static void putLong(byte[] b, int at, long v) {
        putInt(b, at, (int) (v >>> 32));
        putInt(b, at + 4, (int) v);
    }

    /** One thread's cipher, nonce, additional data and scratch pages. */
    private final class Worker {
        final Cipher cipher;
        final byte[] nonce = new byte[NONCE_BYTES];
        final byte[] aad;
        final byte[] in = new byte[PAGE + TAG_BYTES];
        final byte[] out = new byte[PAGE + TAG_BYTES];

        Worker(Cipher cipher) {
            this.cipher = cipher;
            this.aad = new byte[20 + identity.length];
            System.arraycopy(identity, 0, aad, 20, identity.length);
        }

        void init(int mode, long slabId, long pageInSlab, long version) throws GeneralSecurityException {
            nonce(slabId, pageInSlab, version, nonce);
            putLong(aad, 0, slabId);
            putInt(aad, 8, (int) pageInSlab);
            putLong(aad, 12, version);
            cipher.init(mode, key.spec(), new GCMParameterSpec(TAG_BYTES * 8, nonce));
            cipher.updateAAD(aad);
        }
    }
}
