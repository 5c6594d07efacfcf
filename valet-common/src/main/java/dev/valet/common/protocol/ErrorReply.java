package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * ERROR: why a request failed. Body: {@code u16 code, u16 messageLength, message (UTF-8, at most
 * {@value #MAX_MESSAGE_BYTES} bytes; longer messages are cut when encoded)}.
 */
public record ErrorReply(ErrorCode code, String message) implements MessageBody {
    public static final int MAX_MESSAGE_BYTES = 1024;

    @Override
    public int encodedSize() {
        return 4 + messageBytes().length;
    }

    @Override
    public void encode(ByteBuf out) {
        byte[] msg = messageBytes();
        out.writeShort(code.code());
        out.writeShort(msg.length);
        out.writeBytes(msg);
    }

    private byte[] messageBytes() {
        byte[] msg = message.getBytes(StandardCharsets.UTF_8);
        if (msg.length <= MAX_MESSAGE_BYTES) {
            return msg;
        }
        // Cut on a character boundary so the receiver's strict decoder accepts it.
        int end = MAX_MESSAGE_BYTES;
        while (end > 0 && (msg[end] & 0xC0) == 0x80) {
            end--;
        }
        return java.util.Arrays.copyOf(msg, end);
    }

    public static ErrorReply decode(ByteBuf body) {
        if (body.readableBytes() < 4) {
            throw ProtocolException.badBody("ERROR body is " + body.readableBytes() + " bytes (expected >= 4)");
        }
        int rawCode = body.readUnsignedShort();
        int len = body.readUnsignedShort();
        if (len > MAX_MESSAGE_BYTES) {
            throw ProtocolException.badBody("ERROR message of " + len + " bytes (max " + MAX_MESSAGE_BYTES + ")");
        }
        Frames.requireLength(body, len, "ERROR message");
        ErrorCode code = ErrorCode.fromCode(rawCode);
        if (code == null) {
            throw ProtocolException.badBody("ERROR with unknown code " + rawCode);
        }
        return new ErrorReply(code, WireStrings.decodeUtf8(body, len, "ERROR message"));
    }
}
