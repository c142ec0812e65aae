#include "app/device.hpp"

#include "app/clock_correction.hpp"
#include "app/files.hpp"
#include "core/password.hpp"

namespace ck {
namespace {

std::string config_file(const std::string& data_dir) { return data_dir + "/config.json"; }
std::string store_dir(const std::string& data_dir) { return data_dir + "/store"; }
std::string key_file(const std::string& data_dir) { return data_dir + "/keys/signing-key.pem"; }

Status check_module(Store& store, const Config& config)
{
    auto stored = store.meta("module_id");
    // A store that holds nothing yet (no attendee, no event) takes the config's module:
    // the package's first start with the example config must not bind the device to it.
    if (stored && *stored != config.module.id() && store.attendee_count() == 0 &&
        store.last_seq() == 0) {
        stored.reset();
    }
    if (stored && *stored != config.module.id()) {
        return Status::error(err::invalid_config,
                             "the data directory holds module " + *stored +
                                 " but the config describes " + config.module.id(),
                             "Use a new data directory for a new module edition.");
    }
    if (!stored) {
        if (Status s = store.set_meta("module_id", config.module.id()); !s) return s;
    }
    return store.set_meta("device_id", config.device_id);
}

}  // namespace

namespace {

DeviceClock make_clock(std::unique_ptr<TimeSource> time)
{
    return time ? DeviceClock(std::move(time)) : DeviceClock();
}

}  // namespace

Device::Device(std::unique_ptr<TimeSource> time) : clock(make_clock(std::move(time))) {}

std::string Device::credential_for(const std::string& attendee_id) const
{
    Credential credential;
    credential.module_id = config.module.id();
    credential.attendee_id = attendee_id;
    credential.issue = store->current_issue(attendee_id);
    return signing_key->issue(credential);
}

Actor Device::actor(const std::string& name) const
{
    Instant now = clock.now();
    return {name, now, format_rfc3339(now, config.module.zone)};
}

std::shared_ptr<const CredentialVerifier> Device::verifier() const
{
    std::lock_guard lock(keys_mutex_);
    return verifier_;
}

void Device::reload_keys()
{
    auto verifier = std::make_shared<const CredentialVerifier>(store->trusted_keys());
    std::lock_guard lock(keys_mutex_);
    verifier_ = std::move(verifier);
}

Status init_device(const std::string& data_dir, const std::string& config_path)
{
    auto config = load_config_file(config_path, lookup_system_zone);
    if (!config) return config.status();
    if (Status s = make_directories(data_dir, 0750); !s) return s;
    if (Status s = make_directories(store_dir(data_dir), 0700); !s) return s;
    if (Status s = make_directories(data_dir + "/keys", 0700); !s) return s;

    auto store = Store::open({store_dir(data_dir)});
    if (!store) return store.status();
    if (Status s = check_module(**store, *config); !s) return s;
    if (Status s =
            write_file_atomic(config_file(data_dir), config_to_json(*config).dump(2) + "\n", 0640);
        !s)
        return s;

    std::optional<SigningKey> key;
    if (auto pem = read_file(key_file(data_dir))) {
        key = SigningKey::from_pem(*pem);
        if (!key) {
            return Status::error(err::invalid_config, key_file(data_dir) + " is not a signing key",
                                 "Restore the key from a backup, or remove it to make a new one "
                                 "(badges signed with the old key will no longer verify).");
        }
    } else {
        key = SigningKey::generate();
        if (Status s = write_file_atomic(key_file(data_dir), key->to_pem(), 0600); !s) return s;
    }
    return (*store)->add_trusted_key(key->key_id(), key->public_key());
}

bool device_initialised(const std::string& data_dir) { return path_exists(store_dir(data_dir)); }

Result<std::unique_ptr<Device>> open_device(const std::string& data_dir,
                                            const std::string& config_path,
                                            std::unique_ptr<TimeSource> time)
{
    if (Status s = check_data_dir_usable(data_dir); !s) return s;
    if (!device_initialised(data_dir)) {
        return Status::error(
            err::invalid_config, "no store in " + data_dir,
            "Run `course-kiosk init --data " + data_dir + " --config FILE` first.");
    }
    auto device = std::make_unique<Device>(std::move(time));
    device->data_dir = data_dir;
    auto config = load_config_file(config_path.empty() ? config_file(data_dir) : config_path,
                                   lookup_system_zone);
    if (!config) return config.status();
    device->config = std::move(*config);
    // Secrets anyone on the device could read would hand out the signing key, the key of
    // display tokens and phone cookies, or the registry token: refuse rather than run so.
    for (const std::string& secret : {key_file(data_dir), data_dir + "/keys/display-secret"}) {
        if (Status s = check_private_file(secret, 0077); !s) return s;
    }
    if (device->config.registry) {  // may be root:course-kiosk 0640
        if (Status s = check_private_file(device->config.registry->token_file, 0007); !s) return s;
    }
    if (!device->config.metrics_token_file.empty()) {
        if (Status s = check_private_file(device->config.metrics_token_file, 0007); !s) return s;
    }
    StoreOptions store_options{store_dir(data_dir)};
    if (device->config.store_map_mb != 0) {
        store_options.map_size = std::size_t{device->config.store_map_mb} << 20;
    }
    auto store = Store::open(store_options);
    if (!store) return store.status();
    device->store = std::move(*store);
    if (Status s = check_module(*device->store, device->config); !s) return s;
    device->schedule = std::make_unique<Schedule>(device->config.module);
    restore_clock_correction(*device);
    if (auto pem = read_file(key_file(data_dir))) device->signing_key = SigningKey::from_pem(*pem);
    std::string secret_file = data_dir + "/keys/display-secret";
    if (auto secret = read_file(secret_file); secret && secret->size() >= 32) {
        device->display_secret = *secret;
    } else {
        device->display_secret = random_hex(32);
        if (Status s = write_file_atomic(secret_file, device->display_secret, 0600); !s) return s;
    }
    device->reload_keys();
    return device;
}

}  // namespace ck
