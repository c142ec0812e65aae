// Status and Result: how errors cross module boundaries (no exceptions do).
//
// A Status is either ok or an error with a stable machine-readable `code`
// (the same strings the HTTP error envelope uses, e.g. "invalid_credential"),
// a human `message` saying what failed and a `hint` saying what to do.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace ck {

class Status {
public:
    Status() = default;  // ok
    static Status ok() { return {}; }
    static Status error(std::string code, std::string message, std::string hint = {})
    {
        Status s;
        s.code_ = std::move(code);
        s.message_ = std::move(message);
        s.hint_ = std::move(hint);
        return s;
    }

    bool is_ok() const { return code_.empty(); }
    explicit operator bool() const { return is_ok(); }
    const std::string& code() const { return code_; }
    const std::string& message() const { return message_; }
    const std::string& hint() const { return hint_; }

private:
    std::string code_;
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
