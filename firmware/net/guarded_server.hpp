// The HTTP server's connections, read through limits cpp-httplib 0.11.4 lacks.
//
// httplib reads a request's head (request line and headers) into memory without bound and
// then runs std::regex over parts of it, on worker threads with 512 KiB stacks: libstdc++'s
// regex recurses once per character, so about a thousand characters crash the process.
// GuardedServer serves each connection through a stream that bounds the head while it is
// read, before httplib sees any of it:
//   - the request line at most `max_request_line` bytes (else 414), each header line at most
//     `max_header_line`, at most `max_header_lines` of them and `max_head_bytes` in all
//     (else 431): memory per connection stays bounded whatever the client sends;
//   - the whole head within `head_deadline` of the request's first byte (else 408): a client
//     sending its head a byte at a time holds a worker thread for seconds, not for ever;
//   - Range headers never reach httplib: its Range regex is one of the crashes above, and it
//     would slice or multiply every answer, errors included. Nothing here is served in
//     parts, so a Range is ignored, as RFC 9110 allows;
//   - "br" in Accept-Encoding never reaches httplib: its brotli compresses every text and
//     JSON answer at quality 11, slowly and with tens of MB of state each, so browsers get
//     gzip (about 256 KiB of state) instead;
//   - the head's syntax as RFC 9112 has it, where httplib is lenient (400): no whitespace
//     between a header's name and its colon, no folded lines, a colon in every header line,
//     exactly one Host (none is allowed in HTTP/1.0 only).
// A refused head is answered here with the error envelope, and the connection is closed.
// The heads are read by an event loop (http/head_loop.hpp), not by a thread per connection:
// a worker thread (http/worker_pool.hpp) takes a connection once its head has arrived and
// gives it back after the answer.
// SECURITY.md ("HTTP parsing: cpp-httplib 0.11.4") lists what is measured and tested.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstddef>
#include <string>

#include "net/head_loop.hpp"
#include "net/worker_pool.hpp"

namespace ck {

class GuardedServer final : public httplib::Server {
public:
    explicit GuardedServer(const WorkerPoolLimits& workers = {}, const HeadLimits& limits = {});

private:
    class Connections;

    // Replaces httplib's own connection loop (a private virtual it provides for SSLServer):
    // the accepted connection goes to the event loop, which waits for its first head.
    bool process_and_close_socket(socket_t sock) override;
    // On a worker thread: serves the requests of a connection whose head the loop has read
    // (`bytes`), until nothing more is buffered; then hands it back to the loop.
    void serve(socket_t sock, std::string bytes, std::size_t served);

    const WorkerPoolLimits workers_;
    const HeadLimits limits_;
    std::atomic<Connections*> connections_{nullptr};  // while listening
};

// Closes the connection serving the current request once `res` is written, and says so in
// it (Connection: close). For answers given without reading a body the client sent:
// httplib would otherwise read the rest of that body as the next request. Only closes on a
// GuardedServer worker.
void close_connection_after_answer(httplib::Response& res);

}  // namespace ck
