#include "app/clock.hpp"

#include <sys/timex.h>
#include <time.h>

#include <cstdlib>

#include "app/files.hpp"

namespace ck {
namespace {

class KernelTimeSource : public TimeSource {
public:
    KernelTimeSource()
    {
        auto id = read_file("/proc/sys/kernel/random/boot_id");
        boot_id_ = id ? id->substr(0, id->find('\n')) : "unknown";
    }
    Instant wall_now() const override
    {
        return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    }
    std::chrono::milliseconds since_boot() const override
    {
        timespec ts{};
        clock_gettime(CLOCK_BOOTTIME, &ts);
        return std::chrono::seconds(ts.tv_sec) +
               std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::nanoseconds(ts.tv_nsec));
    }
    std::string boot_id() const override { return boot_id_; }
    bool ntp_synchronised() const override { return system_clock_synchronised(); }

private:
    std::string boot_id_;
};

}  // namespace

bool system_clock_synchronised()
{
    timex tx{};
    int state = adjtimex(&tx);
    return state != TIME_ERROR && state != -1 && (tx.status & STA_UNSYNC) == 0;
}

std::unique_ptr<TimeSource> system_time_source() { return std::make_unique<KernelTimeSource>(); }

DeviceClock::DeviceClock() : DeviceClock(system_time_source())
{
    if (const char* fake = std::getenv("COURSE_KIOSK_FAKE_TIME"); fake != nullptr && *fake) {
        if (auto t = parse_rfc3339(fake)) fake_offset_ = *t - source_->wall_now();
    }
    if (const char* trust = std::getenv("COURSE_KIOSK_CLOCK_TRUSTED"); trust != nullptr && *trust) {
        forced_trust_ = std::string(trust) == "1" ? 1 : 0;
    }
}

DeviceClock::DeviceClock(std::unique_ptr<TimeSource> source) : source_(std::move(source)) {}

ClockReading DeviceClock::read() const
{
    ClockReading r;
    r.stamp = {source_->boot_id(), source_->since_boot()};
    Instant wall = source_->wall_now() + fake_offset_;
    std::lock_guard lock(mutex_);
    if (forced_trust_ >= 0) {
        r.now = wall;
        r.trusted = forced_trust_ == 1;
        r.source = forced_source_;
    } else if (source_->ntp_synchronised()) {
        r.now = wall;
        r.trusted = true;
        r.source = "ntp";
    } else if (correction_) {
        r.now = correction_->at + std::chrono::duration_cast<std::chrono::seconds>(
                                      r.stamp.since_boot - correction_->since_boot);
        r.trusted = true;
        r.source = correction_->source;
    } else {
        r.now = wall;
        r.source = "none";
    }
    return r;
}

std::chrono::seconds DeviceClock::offset() const
{
    return read().now - (source_->wall_now() + fake_offset_);
}

DeviceClock::Correction DeviceClock::set(Instant t, std::string source)
{
    std::lock_guard lock(mutex_);
    correction_ = Correction{t, source_->since_boot(), source_->boot_id(), std::move(source)};
    forced_trust_ = -1;
    return *correction_;
}

bool DeviceClock::restore(const Correction& kept)
{
    if (kept.boot_id != source_->boot_id() || kept.since_boot > source_->since_boot()) {
        return false;
    }
    std::lock_guard lock(mutex_);
    correction_ = kept;  // the test hook's forced trust, if any, still wins
    return true;
}

void DeviceClock::trust_wall_clock(std::string source)
{
    std::lock_guard lock(mutex_);
    if (forced_trust_ >= 0) return;  // the environment's word stands
    forced_trust_ = 1;
    forced_source_ = std::move(source);
}

std::optional<Instant> DeviceClock::instant_of(const BootStamp& stamp) const
{
    ClockReading r = read();
    if (!r.trusted || stamp.boot_id != r.stamp.boot_id) return std::nullopt;
    return r.now -
           std::chrono::duration_cast<std::chrono::seconds>(r.stamp.since_boot - stamp.since_boot);
}

}  // namespace ck
