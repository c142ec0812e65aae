// ck-bench-fill: prepares a data directory for bench/run (an initialised one, whose module
// has at least `--sessions` sessions):
//   - a roster of `--attendees` attendees (A0001, A0002, ...);
//   - `--checkins` earlier check-ins: every attendee in the module's first sessions, in
//     order, written through the store's group commit from 32 threads (as the server does);
//   - credential files for the load: roster.txt (one per rostered attendee) and
//     fresh.txt (`--fresh` attendees not in the roster, B000001, ...: every one a new write).
//
//   ck-bench-fill --data DIR --attendees 2000 --checkins 50000 --fresh 200000 --out DIR
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "app/device.hpp"

namespace {

std::string numbered(char prefix, int n, int width)
{
    std::string digits = std::to_string(n);
    return std::string(1, prefix) + std::string(width - digits.size(), '0') + digits;
}

int usage()
{
    std::cerr << "usage: ck-bench-fill --data DIR --attendees N --checkins N --fresh N --out DIR\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv)
{
    std::string data, out;
    int attendees = 2000, checkins = 50000, fresh = 200000;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string key = argv[i], value = argv[i + 1];
        if (key == "--data")
            data = value;
        else if (key == "--out")
            out = value;
        else if (key == "--attendees")
            attendees = std::stoi(value);
        else if (key == "--checkins")
            checkins = std::stoi(value);
        else if (key == "--fresh")
            fresh = std::stoi(value);
        else
            return usage();
    }
    if (data.empty() || out.empty()) return usage();
    auto opened = ck::open_device(data);
    if (!opened) {
        std::cerr << "ck-bench-fill: " << opened.status().message() << "\n";
        return 1;
    }
    ck::Device& device = **opened;

    std::vector<ck::Attendee> roster;
    const int width = std::max(4, static_cast<int>(std::to_string(attendees).size()));
    for (int i = 1; i <= attendees; ++i) {
        roster.push_back({numbered('A', i, width), "Family" + std::to_string(i),
                          "Given" + std::to_string(i), "", "FR"});
    }
    if (auto stats = device.store->import_roster(roster); !stats) {
        std::cerr << "ck-bench-fill: " << stats.status().message() << "\n";
        return 1;
    }

    const auto& sessions = device.schedule->sessions();
    if (static_cast<long long>(sessions.size()) * attendees < checkins) {
        std::cerr << "ck-bench-fill: the module has too few sessions for " << checkins
                  << " check-ins of " << attendees << " attendees\n";
        return 1;
    }
    std::atomic<int> next{0};
    std::atomic<int> failed{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 32; ++t) {
        writers.emplace_back([&] {
            for (int n = next++; n < checkins; n = next++) {
                const ck::ResolvedSession& session =
                    sessions[static_cast<std::size_t>(n / attendees)];
                ck::NewCheckin c;
                c.module_id = device.config.module.id();
                c.attendee_id = roster[static_cast<std::size_t>(n % attendees)].id;
                c.session_id = session.spec->id;
                c.at = session.start + std::chrono::seconds(n % 600);
                c.at_text = ck::format_rfc3339(c.at, device.config.module.zone);
                c.source = "badge";
                c.issue = 1;
                if (!device.store->record_checkin(c)) ++failed;
            }
        });
    }
    for (auto& w : writers) w.join();
    if (failed > 0) {
        std::cerr << "ck-bench-fill: " << failed << " check-ins failed\n";
        return 1;
    }

    std::ofstream roster_out(out + "/roster.txt");
    for (const auto& a : roster) roster_out << device.credential_for(a.id) << "\n";
    std::ofstream fresh_out(out + "/fresh.txt");
    std::vector<std::string> sample;  // for the verification rate below
    for (int i = 1; i <= fresh; ++i) {
        ck::Credential c;
        c.module_id = device.config.module.id();
        c.attendee_id = numbered('B', i, 6);
        c.issue = 1;
        std::string text = device.signing_key->issue(c);
        fresh_out << text << "\n";
        if (sample.size() < 3000) sample.push_back(std::move(text));
    }
    // What one core spends verifying a badge never seen before (the verifier's memory off):
    // the floor under the cost of every durable check-in in (b).
    const ck::CredentialVerifier verifier(device.store->trusted_keys(), 0);
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& text : sample) {
        if (!verifier.verify(text)) return 1;
    }
    const std::chrono::duration<double> spent = std::chrono::steady_clock::now() - t0;
    std::cout << "ck-bench-fill: " << attendees << " attendees, " << device.store->checkin_count()
              << " check-ins, " << fresh << " fresh credentials\n";
    if (!sample.empty()) {
        std::cout << "verify_per_s " << static_cast<long>(sample.size() / spent.count()) << "\n";
    }
    return 0;
}
