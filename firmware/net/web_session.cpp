#include "net/web_session.hpp"

#include <openssl/crypto.h>

#include <algorithm>

namespace ck {

bool equal_secret(const std::string& a, const std::string& b)
{
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string session_cookie(std::string_view name, const std::string& token, int max_age)
{
    return std::string(name) + "=" + token +
           "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age);
}

std::optional<std::string> cookie_value(const httplib::Request& req, std::string_view name)
{
    for (std::size_t i = 0, n = req.get_header_value_count("Cookie"); i < n; ++i) {
        std::string header = req.get_header_value("Cookie", i);
        std::size_t pos = 0;
        while (pos < header.size()) {
            std::size_t end = header.find(';', pos);
            if (end == std::string::npos) end = header.size();
            std::string_view part(header.data() + pos, end - pos);
            while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
            if (part.size() > name.size() && part.substr(0, name.size()) == name &&
                part[name.size()] == '=') {
                return std::string(part.substr(name.size() + 1));
            }
            pos = end + 1;
        }
    }
    return std::nullopt;
}

LoginThrottle::LoginThrottle()
    : by_client_({.free_failures = 3}),
      by_account_({.free_failures = 10}),
      by_address_({.free_failures = 10})
{
}

std::string LoginThrottle::client_key(const std::string& username, const std::string& address)
{
    return username.substr(0, 128) + '\n' + address;
}

std::int64_t LoginThrottle::wait(const std::string& username, const std::string& address,
                                 std::int64_t now) const
{
    const std::string client = client_key(username, address);
    std::int64_t wait = std::max(by_client_.wait(client, now), by_address_.wait(address, now));
    // An account under attack slows down only the clients that have failed on it.
    if (by_client_.failures(client, now) > 0) {
        wait = std::max(wait, by_account_.wait(username.substr(0, 128), now));
    }
    return wait;
}

void LoginThrottle::failed(const std::string& username, const std::string& address,
                           std::int64_t now)
{
    by_client_.failed(client_key(username, address), now);
    by_account_.failed(username.substr(0, 128), now);
    by_address_.failed(address, now);
}

void LoginThrottle::succeeded(const std::string& username, const std::string& address)
{
    by_client_.succeeded(client_key(username, address));
}

}  // namespace ck
