// A device's data directory opened for work: config, store, schedule, keys and clock.
// Every command that touches data goes through open_device() or init_device().
//
// Data directory layout:
//   config.json              the config in force (copied there by `init`)
//   store/                   LMDB (data.mdb, lock.mdb)
//   keys/signing-key.pem     the device's Ed25519 signing key, mode 0600 (if it signs)
//   keys/display-secret      HMAC key of display tokens and phone cookies, mode 0600
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "app/clock.hpp"
#include "app/config.hpp"
#include "core/credential.hpp"
#include "core/schedule.hpp"
#include "store/store.hpp"

namespace ck {

// What every part of the device works from, and nothing more: the config, the store,
// the timetable, the clock and the keys. The parts that act on it (the check-in service,
// the sync relay, the HTTP server, the module closer) are made and wired by the serve
// command (cli/cmd_serve.cpp); none of them is reached through the Device.
class Device {
public:
    std::string data_dir;
    Config config;
    std::unique_ptr<Store> store;
    std::unique_ptr<Schedule> schedule;  // refers to config.module
    DeviceClock clock;
    std::optional<SigningKey> signing_key;
    std::string display_secret;  // keys the display tokens and phone cookies (keys/display-secret)

    // `time` null: the kernel's clocks (and the tests' environment hooks, app/clock.hpp).
    explicit Device(std::unique_ptr<TimeSource> time = nullptr);
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    // The QR text of the attendee's current badge, signed with this device's key.
    // Requires signing_key.
    std::string credential_for(const std::string& attendee_id) const;

    // `name` acting now, by the device clock (for voids, closes, the audit log).
    Actor actor(const std::string& name) const;

    // What credentials are verified with: the trusted keys (reload_keys() after a change)
    // and the credentials verified so far.
    std::shared_ptr<const CredentialVerifier> verifier() const;
    void reload_keys();

private:
    mutable std::mutex keys_mutex_;
    std::shared_ptr<const CredentialVerifier> verifier_;
};

// Creates (or completes) a data directory from a config file: validates the config, copies
// it to DATA/config.json, creates the store, and generates a signing key unless one exists.
// Refuses a directory whose store belongs to another module.
Status init_device(const std::string& data_dir, const std::string& config_path);

// True once `data_dir` holds a store (init_device has run there).
bool device_initialised(const std::string& data_dir);

// Opens an initialised data directory. `config_path`, when not empty, replaces
// DATA/config.json for this run (it must describe the same module).
// `time`: where the clock reads the time (tests); null: the kernel.
Result<std::unique_ptr<Device>> open_device(const std::string& data_dir,
                                            const std::string& config_path = {},
                                            std::unique_ptr<TimeSource> time = nullptr);

}  // namespace ck
