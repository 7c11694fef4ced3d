package io.smalti.node.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.smalti.ring.vnode.VnodeClient;
import java.util.concurrent.CompletionException;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.util.ByteString;

/** JSON responses of the REST API, including the error body every failure uses. Stateless. */
final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    /** Any error. */
    record ErrorBody(int status, String error) {}

    /** An error the hub answered, with its protocol code (e.g. NO_MEMBERS). */
    record HubErrorBody(int status, String error, String code) {}

    private Json() {}

    static HttpResponse response(StatusCode status, Object body) {
        try {
            return HttpResponse.create().withStatus(status)
                    .withEntity(ContentTypes.APPLICATION_JSON, ByteString.fromArray(MAPPER.writeValueAsBytes(body)));
        } catch (JsonProcessingException e) {
            return HttpResponse.create().withStatus(StatusCodes.INTERNAL_SERVER_ERROR)
                    .withEntity(ContentTypes.APPLICATION_JSON, "{\"status\":500,\"error\":\"cannot encode response\"}");
        }
    }

    static HttpResponse hubError(StatusCode status, String code, String message) {
        return response(status, new HubErrorBody(status.intValue(), message, code));
    }

    /** The bytes as text if they are valid UTF-8, else null. */
    static String utf8(byte[] bytes) {
        try {
            return java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }

    static ObjectMapper mapper() {
        return MAPPER;
    }

    static HttpResponse error(StatusCode status, String message) {
        return response(status, new ErrorBody(status.intValue(), message));
    }

    /** The response for a failed read or write: its status follows the failure's code. */
    static HttpResponse failure(Throwable err) {
        HttpResponse tooLarge = BodyLimit.tooLarge(err);
        if (tooLarge != null) {
            return tooLarge;
        }
        Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        if (cause instanceof VnodeClient.VnodeException v) {
            StatusCode status = switch (v.code()) {
                case BAD_REQUEST -> StatusCodes.BAD_REQUEST;
                case UNKNOWN_SERVICE -> StatusCodes.NOT_FOUND;
                case TIMEOUT -> StatusCodes.GATEWAY_TIMEOUT;
                default -> StatusCodes.SERVICE_UNAVAILABLE;
            };
            return error(status, v.getMessage());
        }
        if (cause instanceof java.util.NoSuchElementException) {
            return error(StatusCodes.NOT_FOUND, cause.getMessage());
        }
        if (cause instanceof io.smalti.bundle.BundleException) {
            return error(StatusCodes.BAD_REQUEST, "bundle refused: " + cause.getMessage());
        }
        if (cause instanceof IllegalArgumentException) {
            return error(StatusCodes.BAD_REQUEST, cause.getMessage());
        }
        return error(StatusCodes.INTERNAL_SERVER_ERROR, String.valueOf(cause));
    }
}
