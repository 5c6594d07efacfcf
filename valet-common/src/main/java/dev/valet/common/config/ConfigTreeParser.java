package dev.valet.common.config;

import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TreeTraversingParser;

import java.util.Map;

/**
 * Binds a configuration tree, giving each scalar the operator wrote its text as written. Jackson's tree keeps the
 * value YAML typed ({@code 007} the number 7, {@code yes} the boolean true), which is right for numeric and boolean
 * keys but wrong for text keys, whose readers ({@link ConfigModule}) take {@link #getText()}: they must see
 * {@code 007}, as they did when the file was bound directly.
 */
final class ConfigTreeParser extends TreeTraversingParser {

    private final Map<String, String> writtenText;

    /**
     * @param tree        what to bind
     * @param writtenText scalars as written, by key path ({@code a.b[2].c}); keys set from elsewhere (defaults,
     *                    overrides) are not in it
     */
    ConfigTreeParser(JsonNode tree, ObjectMapper mapper, Map<String, String> writtenText) {
        super(tree, mapper);
        this.writtenText = writtenText;
    }

    @Override
    public String getText() {
        JsonToken token = currentToken();
        if (token != null && token.isScalarValue() && token != JsonToken.VALUE_NULL) {
            String written = writtenText.get(currentPath());
            if (written != null) {
                return written;
            }
        }
        return super.getText();
    }

    /** The key path of the current value, in {@link YamlDocument}'s form: {@code a.b[2].c}. */
    private String currentPath() {
        StringBuilder path = new StringBuilder();
        for (JsonStreamContext context = getParsingContext(); context != null && !context.inRoot();
                context = context.getParent()) {
            if (context.inArray()) {
                path.insert(0, "[" + context.getCurrentIndex() + "]");
            } else {
                path.insert(0, context.getCurrentName());
                if (!context.getParent().inRoot()) {
                    path.insert(0, '.');
                }
            }
        }
        return path.toString();
    }
}
