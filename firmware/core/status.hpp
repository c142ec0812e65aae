// Status and Result: how errors cross module boundaries (no exceptions do).
//
// A Status is either ok or an error with a stable machine-readable `code` from the table
// in core/error_codes.hpp (the strings the HTTP error envelope uses, e.g.
// "invalid_credential", with the HTTP status each answers with), a human `message` saying
// what failed and a `hint` saying what to do.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "core/error_codes.hpp"

namespace ck {

class Status {
public:
    Status() = default;  // ok
    static Status ok() { return {}; }
    static Status error(const ErrorCode& code, std::string message, std::string hint = {})
    {
        Status s;
        s.code_ = std::string(code.name());
        s.http_status_ = code.http_status();
        s.message_ = std::move(message);
        s.hint_ = std::move(hint);
        return s;
    }

    bool is_ok() const { return code_.empty(); }
    explicit operator bool() const { return is_ok(); }
    const std::string& code() const { return code_; }
    int http_status() const { return http_status_; }  // 200 when ok
    const std::string& message() const { return message_; }
    const std::string& hint() const { return hint_; }

private:
    std::string code_;
    int http_status_ = 200;
    std::string message_;
    std::string hint_;
};

// A value or the Status that explains why there is none.
template <class T>
class Result {
public:
    Result(T value) : value_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
    Result(Status status) : status_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

    bool is_ok() const { return value_.has_value(); }
    explicit operator bool() const { return is_ok(); }
    const Status& status() const { return status_; }
    T& value() { return *value_; }
    const T& value() const { return *value_; }
    T* operator->() { return &*value_; }
    const T* operator->() const { return &*value_; }
    T& operator*() { return *value_; }
    const T& operator*() const { return *value_; }

private:
    std::optional<T> value_;
    Status status_;
};

}  // namespace ck
