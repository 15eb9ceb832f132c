// A live-chat client on libwebsockets, not Beast: tests/chat/interop.test.mjs runs it to show that a
// WebSocket stack other than the server's own can join a room, send, and see its message come back.
//
// usage: lws_chat_client <host> <port> <path-with-query> <text>
// Connects to ws://host:port/path, waits for `hello`, sends one chat.send with client_id "lws-1", waits for the
// chat.message carrying that client_id, closes normally, and exits 0. Every received message is printed to
// stdout, one per line. Anything else (refused upgrade, protocol violation, `error` message, early close,
// 10 s elapsed) is reported on stderr with a non-zero exit.
#include <libwebsockets.h>

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace json = boost::json;

namespace {

constexpr std::string_view own_client_id = "lws-1";
constexpr lws_usec_t run_timeout_us = 10 * LWS_US_PER_SEC;
// The server refuses frames over 16 KiB; a hello with 50 messages of 500 characters stays far below this.
constexpr std::size_t max_message_bytes = 1024 * 1024;

enum class phase { connecting, awaiting_hello, sending, awaiting_echo, closing, closed };

// The whole run's state, reached from the lws callback through the context's user pointer.
struct chat_run {
    std::string outgoing;
    std::string frame;
    phase at = phase::connecting;
    bool echoed = false;
    std::optional<std::string> failure;

    void fail(std::string why) {
        if (!failure) failure = std::move(why);
    }
    bool finished() const { return failure.has_value() || at == phase::closed; }
};

// lws calls back with a pointer to the sul alone; being the first member of a standard-layout struct, it has the
// struct's address.
struct deadline_timer {
    lws_sorted_usec_list_t sul{};
    bool expired = false;
};
static_assert(std::is_standard_layout_v<deadline_timer>);

struct context_closer {
    void operator()(lws_context* ctx) const noexcept { lws_context_destroy(ctx); }
};
using context_ptr = std::unique_ptr<lws_context, context_closer>;

void on_deadline(lws_sorted_usec_list_t* sul) { reinterpret_cast<deadline_timer*>(sul)->expired = true; }

std::string_view describe(phase at) {
    switch (at) {
    case phase::connecting: return "connecting";
    case phase::awaiting_hello: return "waiting for hello";
    case phase::sending: return "sending chat.send";
    case phase::awaiting_echo: return "waiting for our chat.message";
    case phase::closing: return "closing";
    case phase::closed: return "closed";
    }
    return "unknown";
}

// Handles one complete text message; returns false when the connection should be dropped.
bool on_message(chat_run& run, struct lws* wsi) {
    json::error_code ec;
    json::value parsed = json::parse(run.frame, ec);
    if (ec) {
        run.fail("server sent a frame that is not JSON (" + ec.message() + "): " + run.frame.substr(0, 300));
        return false;
    }
    const json::object* msg = parsed.if_object();
    const json::value* type_value = msg ? msg->if_contains("type") : nullptr;
    const json::string* type = type_value ? type_value->if_string() : nullptr;
    if (!type) {
        run.fail("server message is not an object with a string \"type\": " + run.frame.substr(0, 300));
        return false;
    }
    // Re-serialized so that each message is exactly one line whatever whitespace the frame had.
    std::cout << json::serialize(parsed) << '\n';

    if (run.at == phase::awaiting_hello) {
        if (*type != "hello") {
            run.fail("first message is not hello: " + std::string(*type));
            return false;
        }
        run.at = phase::sending;
        lws_callback_on_writable(wsi);
        return true;
    }
    if (*type == "hello") {
        run.fail("second hello on one connection");
        return false;
    }
    if (*type == "error") {
        run.fail("server answered with an error: " + json::serialize(parsed));
        return false;
    }
    if (*type == "chat.message" && run.at == phase::awaiting_echo) {
        const json::value* client_id = msg->if_contains("client_id");
        if (client_id && client_id->is_string() && client_id->get_string() == own_client_id) {
            run.echoed = true;
            run.at = phase::closing;
            lws_callback_on_writable(wsi);
        }
    }
    return true;
}

int on_event(struct lws* wsi, enum lws_callback_reasons reason, void* /*user*/, void* in, std::size_t len) {
    auto* run = static_cast<chat_run*>(lws_context_user(lws_get_context(wsi)));
    if (!run) return 0;

    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        // Also how lws reports a refused upgrade (e.g. the server's 401/403 before the handshake).
        run->fail("connection failed: " + std::string(in ? static_cast<const char*>(in) : "unknown error"));
        return 0;

    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        run->at = phase::awaiting_hello;
        return 0;

    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (run->failure) return -1;
        if (lws_frame_is_binary(wsi)) {
            run->fail("server sent a binary frame; the protocol is JSON text frames");
            return -1;
        }
        if (run->frame.size() + len > max_message_bytes) {
            run->fail("server message larger than " + std::to_string(max_message_bytes) + " bytes");
            return -1;
        }
        // lws hands a message over in pieces as they arrive; it is complete on the final fragment.
        run->frame.append(static_cast<const char*>(in), len);
        if (!lws_is_final_fragment(wsi)) return 0;
        {
            const bool keep = on_message(*run, wsi);
            run->frame.clear();
            return keep ? 0 : -1;
        }

    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (run->at == phase::sending) {
            // lws needs LWS_PRE bytes of headroom in front of the payload for the frame header.
            std::vector<unsigned char> buffer(LWS_PRE + run->outgoing.size());
            std::copy(run->outgoing.begin(), run->outgoing.end(), buffer.begin() + LWS_PRE);
            const int written = lws_write(wsi, buffer.data() + LWS_PRE, run->outgoing.size(), LWS_WRITE_TEXT);
            if (written < static_cast<int>(run->outgoing.size())) {
                run->fail("sending chat.send failed");
                return -1;
            }
            run->at = phase::awaiting_echo;
            return 0;
        }
        if (run->at == phase::closing) {
            // Returning -1 after setting a reason makes lws send the close frame and wait for the server's.
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, nullptr, 0);
            return -1;
        }
        return 0;

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (run->at != phase::closing) {
            int code = 0;
            std::string close_reason;
            if (in && len >= 2) {
                const auto* bytes = static_cast<const unsigned char*>(in);
                code = bytes[0] << 8 | bytes[1];
                close_reason.assign(static_cast<const char*>(in) + 2, len - 2);
            }
            run->fail("server closed the connection (" + std::to_string(code) + " " + close_reason + ")");
        }
        return 0;

    case LWS_CALLBACK_CLIENT_CLOSED:
        if (!run->echoed) run->fail("connection closed before our chat.message came back");
        run->at = phase::closed;
        return 0;

    default:
        return 0;
    }
}

const lws_protocols protocols[] = {
    {"cohort-chat", on_event, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

std::optional<int> parse_port(std::string_view text) {
    int port = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (ec != std::errc{} || end != text.data() + text.size() || port < 1 || port > 65535) return std::nullopt;
    return port;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::cerr << "usage: lws_chat_client <host> <port> <path-with-query> <text>\n";
        return 2;
    }
    const std::string host = argv[1];
    const std::optional<int> port = parse_port(argv[2]);
    const std::string path = argv[3];
    if (!port) {
        std::cerr << "lws_chat_client: bad port \"" << argv[2] << "\" (1-65535)\n";
        return 2;
    }
    if (path.empty() || path.front() != '/') {
        std::cerr << "lws_chat_client: the path must start with '/': \"" << path << "\"\n";
        return 2;
    }

    lws_set_log_level(LLL_ERR | LLL_WARN, nullptr);

    // Declared before the context so that they outlive it: the context refers to them until destroyed.
    chat_run run;
    deadline_timer deadline;
    run.outgoing = json::serialize(json::object{
        {"type", "chat.send"},
        {"text", argv[4]},
        {"client_id", own_client_id},
    });

    lws_context_creation_info info{};
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = &run;
    const context_ptr context(lws_create_context(&info));
    if (!context) {
        std::cerr << "lws_chat_client: lws_create_context failed\n";
        return 1;
    }

    const std::string host_header = host + ":" + std::to_string(*port);
    lws_client_connect_info connect{};
    connect.context = context.get();
    connect.address = host.c_str();
    connect.port = *port;
    connect.path = path.c_str();
    connect.host = host_header.c_str();
    // No origin: the server accepts non-browser clients without one. No subprotocol either.
    if (!lws_client_connect_via_info(&connect)) {
        run.fail("lws_client_connect_via_info failed for " + host_header);
    }

    lws_sul_schedule(context.get(), 0, &deadline.sul, on_deadline, run_timeout_us);
    while (!run.finished() && !deadline.expired) {
        if (lws_service(context.get(), 0) < 0) {
            run.fail("lws_service failed");
        }
    }
    lws_sul_cancel(&deadline.sul);
    if (!run.finished()) run.fail("timed out after 10 s while " + std::string(describe(run.at)));
    std::cout.flush();

    if (run.failure) {
        std::cerr << "lws_chat_client: " << *run.failure << '\n';
        return 1;
    }
    return 0;
}
