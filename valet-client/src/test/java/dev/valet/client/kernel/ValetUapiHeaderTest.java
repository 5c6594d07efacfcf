package dev.valet.client.kernel;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code native/kernel/valet_uapi.h} is the contract; {@link ValetGenl} must say exactly what it says. The header is
 * parsed here (its enums and #defines, with the little arithmetic it uses), and every name in it must be a
 * {@link ValetGenl} field of the same value (without the {@code VALET_} prefix), and every field a name in it.
 */
class ValetUapiHeaderTest {
    /** Tests run in the module directory. */
    static final Path HEADER = Path.of("../native/kernel/valet_uapi.h");

    @Test
    void everyEnumValueAndDefineMatchesValetGenl() throws Exception {
        Map<String, Object> header = parse(Files.readString(HEADER));
        assertThat(header).containsKeys("VALET_GENL_NAME", "VALET_GENL_VERSION", "VALET_MAX_IO_BYTES",
                "VALET_BLOCK_SIZE", "VALET_CMD_DONE", "VALET_ATTR_STAT_REJECTED", "VALET_ATTR_DATA_BYTES",
                "VALET_ATTR_STAT_BUSY", "VALET_REQ_BUF", "VALET_CPL_PAD", "VALET_DATA_DEVICE",
                "VALET_DATA_MMAP_SHIFT", "VALET_MIN_DATA_BYTES", "VALET_MAX_DATA_BYTES", "VALET_DEF_DATA_BYTES",
                "VALET_OP_FLUSH", "VALET_CMD_MAX", "__VALET_CPL_MAX", "VALET_ATTR_TIER_BYTES",
                "VALET_TIER_MMAP_SHIFT", "VALET_MAX_TIER_BYTES")
                .doesNotContainKeys("VALET_REQ_DATA", "VALET_CPL_DATA", "VALET_MAX_REQ_BYTES",
                        "VALET_DATA_MMAP_OFFSET", "VALET_TIER_MMAP_OFFSET");
        assertThat(header).containsEntry("VALET_GENL_VERSION", 3L).containsEntry("VALET_MAX_IO_BYTES", 512L * 1024)
                .containsEntry("VALET_ATTR_DATA_BYTES", 21L).containsEntry("VALET_ATTR_STAT_BUSY", 22L)
                .containsEntry("VALET_REQ_BUF", 5L).containsEntry("VALET_CPL_PAD", 3L)
                .containsEntry("VALET_DATA_DEVICE", "/dev/valet-data").containsEntry("VALET_MAX_DATA_BYTES", 1L << 30)
                .containsEntry("VALET_ATTR_TIER_BYTES", 26L).containsEntry("VALET_MAX_TIER_BYTES", 1L << 30)
                .containsEntry("VALET_TIER_MMAP_SHIFT", 39L);

        List<String> mismatches = new ArrayList<>();
        for (Map.Entry<String, Object> e : header.entrySet()) {
            String name = e.getKey();
            if (name.startsWith("__") || name.startsWith("_UAPI")) {
                continue; // __VALET_*_MAX is checked through VALET_*_MAX; _UAPI_LINUX_VALET_H is the include guard
            }
            assertThat(name).as("header name").startsWith("VALET_");
            String javaName = name.substring("VALET_".length());
            Object java;
            try {
                java = ValetGenl.class.getField(javaName).get(null);
            } catch (NoSuchFieldException missing) {
                mismatches.add(name + " = " + e.getValue() + " has no ValetGenl." + javaName);
                continue;
            }
            Object expected = e.getValue();
            Object actual = java instanceof Integer i ? Long.valueOf(i) : java;
            if (!expected.equals(actual)) {
                mismatches.add(name + " = " + expected + " but ValetGenl." + javaName + " = " + java);
            }
        }
        for (Field f : ValetGenl.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && !header.containsKey("VALET_" + f.getName())) {
                mismatches.add("ValetGenl." + f.getName() + " is not in valet_uapi.h");
            }
        }
        assertThat(mismatches).isEmpty();
    }

    /** Function-like macros have no field: each is a {@link ValetGenl} method, checked here by hand. */
    @Test
    void theDataAreaOffsetMacroMatchesDataMmapOffset() throws Exception {
        Map<String, String> macros = functionMacros(Files.readString(HEADER));

        assertThat(macros).containsOnlyKeys("VALET_DATA_MMAP_OFFSET(index)", "VALET_TIER_MMAP_OFFSET(index)");
        assertThat(macros.get("VALET_DATA_MMAP_OFFSET(index)").replaceAll("\\s+", " "))
                .isEqualTo("((unsigned long long)(index) << VALET_DATA_MMAP_SHIFT)");
        assertThat(ValetGenl.dataMmapOffset(0)).isZero();
        assertThat(ValetGenl.dataMmapOffset(3)).isEqualTo(3L << 40);
        assertThat(ValetGenl.dataMmapOffset(65535)).isEqualTo(65535L << 40);
    }

    @Test
    void theTierAreaOffsetMacroMatchesTierMmapOffset() throws Exception {
        Map<String, String> macros = functionMacros(Files.readString(HEADER));

        assertThat(macros.get("VALET_TIER_MMAP_OFFSET(index)").replaceAll("\\s+", " "))
                .isEqualTo("(VALET_DATA_MMAP_OFFSET(index) | (1ULL << VALET_TIER_MMAP_SHIFT))");
        assertThat(ValetGenl.tierMmapOffset(0)).isEqualTo(1L << 39);
        assertThat(ValetGenl.tierMmapOffset(3)).isEqualTo(3L << 40 | 1L << 39);
        assertThat(ValetGenl.tierMmapOffset(255)).isEqualTo(255L << 40 | 1L << 39);
        assertThat(ValetGenl.MAX_DATA_BYTES).as("a data area never reaches its device's tier")
                .isLessThanOrEqualTo(1L << ValetGenl.TIER_MMAP_SHIFT);
    }

    @Test
    void theParserReadsEnumsDefinesAndArithmetic() {
        Map<String, Object> parsed = parse("""
                /* comment */
                #define A_NAME\t"X"   // trailing
                #define A_SIZE (4 * 1024)
                enum e {
                \tE_ZERO,\t\t/* 0 */
                \tE_ONE,
                \tE_TEN = 10,
                \tE_ELEVEN,
                \t__E_MAX,
                };
                #define E_MAX (__E_MAX - 1)
                enum f { F_A = 0x10, F_B };
                #define G_BIG\t(1ULL << 30)
                #define G_SUM (2 << 3 + 1)
                #define G_FN(x) \\
                \t((x) << G_BIG)
                """);

        assertThat(parsed).containsEntry("G_BIG", 1L << 30).containsEntry("G_SUM", 2L << 4)
                .doesNotContainKey("G_FN");
        assertThat(parsed).containsEntry("A_NAME", "X").containsEntry("A_SIZE", 4096L).containsEntry("E_ZERO", 0L)
                .containsEntry("E_ONE", 1L).containsEntry("E_TEN", 10L).containsEntry("E_ELEVEN", 11L)
                .containsEntry("__E_MAX", 12L).containsEntry("E_MAX", 11L).containsEntry("F_A", 16L)
                .containsEntry("F_B", 17L);
    }

    private static final Pattern DEFINE =
            Pattern.compile("(?m)^\\s*#\\s*define\\s+(\\w+)(\\([^)]*\\))?[ \\t]*(.*)$");
    private static final Pattern ENUM = Pattern.compile("enum\\s+\\w*\\s*\\{([^}]*)}");
    private static final Pattern ENUMERATOR = Pattern.compile("\\s*(\\w+)\\s*(?:=\\s*(.+?))?\\s*");

    /** Comments dropped, continued lines joined. */
    private static String code(String text) {
        return text.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", "").replaceAll("\\\\\\n", " ");
    }

    /** The function-like macros of a C header: "NAME(params)" → body. */
    static Map<String, String> functionMacros(String text) {
        Map<String, String> macros = new LinkedHashMap<>();
        Matcher define = DEFINE.matcher(code(text));
        while (define.find()) {
            if (define.group(2) != null) {
                macros.put(define.group(1) + define.group(2), define.group(3).strip());
            }
        }
        return macros;
    }

    /**
     * Every #define (strings, and integer expressions) and enumerator of a C header, in order; function-like macros
     * are left to {@link #functionMacros}.
     */
    static Map<String, Object> parse(String text) {
        String code = code(text);
        Map<String, Object> names = new LinkedHashMap<>();
        // Enums and defines may refer to each other; the header defines each name after what it uses, so
        // reading them in order of appearance resolves every reference.
        Matcher define = DEFINE.matcher(code);
        Matcher enumeration = ENUM.matcher(code);
        int at = 0;
        boolean haveDefine = define.find(at);
        boolean haveEnum = enumeration.find(at);
        while (haveDefine || haveEnum) {
            if (haveDefine && (!haveEnum || define.start() < enumeration.start())) {
                String value = define.group(3).strip();
                if (define.group(2) != null) {
                    haveDefine = define.find();
                    continue; // a function-like macro
                }
                if (value.startsWith("\"")) {
                    names.put(define.group(1), value.substring(1, value.lastIndexOf('"')));
                } else if (!value.isEmpty()) {
                    names.put(define.group(1), new Expression(value, names).evaluate());
                } else {
                    names.put(define.group(1), "");
                }
                haveDefine = define.find();
            } else {
                long next = 0;
                for (String item : enumeration.group(1).split(",")) {
                    if (item.isBlank()) {
                        continue;
                    }
                    Matcher m = ENUMERATOR.matcher(item);
                    assertThat(m.matches()).as("enumerator '%s'", item.strip()).isTrue();
                    if (m.group(2) != null) {
                        next = new Expression(m.group(2), names).evaluate();
                    }
                    names.put(m.group(1), next++);
                }
                int end = enumeration.end();
                haveEnum = enumeration.find(end);
                if (haveDefine && define.start() < end) {
                    haveDefine = define.find(end);
                }
            }
        }
        return names;
    }

    /** Integer expressions of << + - * / and parentheses over numbers and earlier names. */
    private static final class Expression {
        private final String text;
        private final Map<String, Object> names;
        private int at;

        Expression(String text, Map<String, Object> names) {
            this.text = text;
            this.names = names;
        }

        long evaluate() {
            long value = shift();
            skipSpace();
            assertThat(at).as("whole expression '%s' understood", text).isEqualTo(text.length());
            return value;
        }

        /** C precedence: {@code <<} binds less tightly than + and -. */
        private long shift() {
            long value = sum();
            while (true) {
                skipSpace();
                if (text.startsWith("<<", at)) {
                    at += 2;
                    value <<= sum();
                } else {
                    return value;
                }
            }
        }

        private long sum() {
            long value = product();
            while (true) {
                skipSpace();
                if (peek('+')) {
                    at++;
                    value += product();
                } else if (peek('-')) {
                    at++;
                    value -= product();
                } else {
                    return value;
                }
            }
        }

        private long product() {
            long value = atom();
            while (true) {
                skipSpace();
                if (peek('*')) {
                    at++;
                    value *= atom();
                } else if (peek('/')) {
                    at++;
                    value /= atom();
                } else {
                    return value;
                }
            }
        }

        private long atom() {
            skipSpace();
            if (peek('(')) {
                at++;
                long value = shift();
                skipSpace();
                assertThat(peek(')')).as("')' in '%s'", text).isTrue();
                at++;
                return value;
            }
            int start = at;
            while (at < text.length() && (Character.isLetterOrDigit(text.charAt(at)) || text.charAt(at) == '_')) {
                at++;
            }
            String token = text.substring(start, at);
            assertThat(token).as("a number or name at %d in '%s'", start, text).isNotEmpty();
            if (Character.isDigit(token.charAt(0))) {
                String digits = token.replaceAll("[uUlL]+$", "");
                return digits.startsWith("0x") || digits.startsWith("0X") ? Long.parseLong(digits.substring(2), 16)
                        : Long.parseLong(digits);
            }
            Object value = names.get(token);
            assertThat(value).as("%s defined before '%s'", token, text).isInstanceOf(Long.class);
            return (Long) value;
        }

        private boolean peek(char c) {
            return at < text.length() && text.charAt(at) == c;
        }

        private void skipSpace() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
                at++;
            }
        }
    }

    @Test
    void headerIsWhereTheTestLooks() throws IOException {
        assertThat(Files.readString(HEADER)).contains("VALET_GENL_NAME");
    }
}
