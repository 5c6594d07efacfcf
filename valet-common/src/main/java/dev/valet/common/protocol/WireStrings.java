package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict UTF-8 for the few strings on the wire: malformed bytes are a bad frame, not a replacement char. */
final class WireStrings {
    private WireStrings() {
    }

    static String decodeUtf8(ByteBuf body, int length, String what) {
        byte[] bytes = new byte[length];
        body.readBytes(bytes);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw ProtocolException.badBody(what + " is not valid UTF-8");
        }
    }
}
