// sd-bus through dlopen: the static tether binary keeps no reference to
// libsystemd; only --systemd-cgroup loads it. Strings and errors that
// libsystemd allocates are released by libsystemd itself (sd_bus_error_free,
// message unref): after a static dlopen it has its own copy of libc.
#include "runtime/cgroups/systemd_bus.hpp"

#include <dlfcn.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include <cstdlib>
#include <cstring>

#include "runtime/core/error.hpp"

namespace tether::cgroups {

#define TETHER_SD_FUNCTIONS(X)                                                                       \
    X(sd_bus_new) X(sd_bus_set_address) X(sd_bus_set_bus_client) X(sd_bus_start) X(sd_bus_flush_close_unref) \
    X(sd_bus_process) X(sd_bus_wait) X(sd_bus_match_signal) X(sd_bus_slot_unref) X(sd_bus_call_method)         \
    X(sd_bus_call) X(sd_bus_get_property) X(sd_bus_message_new_method_call) X(sd_bus_message_unref)         \
    X(sd_bus_message_append) X(sd_bus_message_append_basic) X(sd_bus_message_append_array)                  \
    X(sd_bus_message_open_container) X(sd_bus_message_close_container) X(sd_bus_message_read)                \
    X(sd_bus_error_free)

struct SystemdBus::Api {
#define TETHER_SD_POINTER(name) decltype(&::name) name = nullptr;
    TETHER_SD_FUNCTIONS(TETHER_SD_POINTER)
#undef TETHER_SD_POINTER
};

namespace {

constexpr const char* destination = "org.freedesktop.systemd1";
constexpr const char* manager_path = "/org/freedesktop/systemd1";
constexpr const char* manager_interface = "org.freedesktop.systemd1.Manager";
constexpr const char* default_system_bus = "unix:path=/run/dbus/system_bus_socket";
constexpr uint64_t job_timeout_us = 60ull * 1000000;

const SystemdBus::Api* load_api() {
    static SystemdBus::Api api;
    static bool loaded = false;
    if (loaded) return &api;
    void* lib = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char* why = ::dlerror();
        throw Error(std::string("--systemd-cgroup: cannot load libsystemd.so.0 (package libsystemd0): ") +
                    (why ? why : "unknown error"));
    }
#define TETHER_SD_LOAD(name)                                                                       \
    api.name = reinterpret_cast<decltype(api.name)>(::dlsym(lib, #name));                         \
    if (!api.name) throw Error("--systemd-cgroup: libsystemd.so.0 has no " #name);
    TETHER_SD_FUNCTIONS(TETHER_SD_LOAD)
#undef TETHER_SD_LOAD
    loaded = true;
    return &api;
}

uint64_t now_us() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

// RAII for the sd-bus objects we own.
struct Message {
    const SystemdBus::Api* api;
    sd_bus_message* m = nullptr;
    ~Message() { if (m) api->sd_bus_message_unref(m); }
};
struct BusError {
    const SystemdBus::Api* api;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    ~BusError() { api->sd_bus_error_free(&e); }
    std::string text(int r) const {
        if (e.message && *e.message) return e.message;
        return std::strerror(-r);
    }
    bool is(const char* name) const { return e.name && std::strcmp(e.name, name) == 0; }
};

void check(int r, const std::string& what) {
    if (r < 0) throw Error("systemd: " + what + ": " + std::strerror(-r), -r);
}

// systemd's bus_label_escape: unit names become object path labels.
std::string escape_label(const std::string& unit) {
    if (unit.empty()) return "_";
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : unit) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            out += static_cast<char>(c);
        } else {
            out += '_';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

void append_value(const SystemdBus::Api* api, sd_bus_message* m, const PropertyValue& value, const std::string& name) {
    const std::string what = "property " + name;
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) {
                check(api->sd_bus_message_append_basic(m, 's', v.c_str()), what);
            } else if constexpr (std::is_same_v<T, bool>) {
                int b = v ? 1 : 0;
                check(api->sd_bus_message_append_basic(m, 'b', &b), what);
            } else if constexpr (std::is_same_v<T, uint64_t>) {
                check(api->sd_bus_message_append_basic(m, 't', &v), what);
            } else if constexpr (std::is_same_v<T, int64_t>) {
                check(api->sd_bus_message_append_basic(m, 'x', &v), what);
            } else if constexpr (std::is_same_v<T, uint32_t>) {
                check(api->sd_bus_message_append_basic(m, 'u', &v), what);
            } else if constexpr (std::is_same_v<T, int32_t>) {
                check(api->sd_bus_message_append_basic(m, 'i', &v), what);
            } else if constexpr (std::is_same_v<T, double>) {
                check(api->sd_bus_message_append_basic(m, 'd', &v), what);
            } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
                check(api->sd_bus_message_open_container(m, 'a', "s"), what);
                for (const auto& s : v) check(api->sd_bus_message_append_basic(m, 's', s.c_str()), what);
                check(api->sd_bus_message_close_container(m), what);
            } else if constexpr (std::is_same_v<T, std::vector<uint8_t>>) {
                check(api->sd_bus_message_append_array(m, 'y', v.data(), v.size()), what);
            } else if constexpr (std::is_same_v<T, DeviceAllowList>) {
                check(api->sd_bus_message_open_container(m, 'a', "(ss)"), what);
                for (const auto& [a, b] : v) check(api->sd_bus_message_append(m, "(ss)", a.c_str(), b.c_str()), what);
                check(api->sd_bus_message_close_container(m), what);
            } else if constexpr (std::is_same_v<T, std::vector<uint32_t>>) {
                check(api->sd_bus_message_append_array(m, 'u', v.data(), v.size() * sizeof(uint32_t)), what);
            } else if constexpr (std::is_same_v<T, DeviceWeightList>) {
                check(api->sd_bus_message_open_container(m, 'a', "(st)"), what);
                for (const auto& [a, b] : v) check(api->sd_bus_message_append(m, "(st)", a.c_str(), b), what);
                check(api->sd_bus_message_close_container(m), what);
            }
        },
        value);
}

void append_properties(const SystemdBus::Api* api, sd_bus_message* m, const std::vector<UnitProperty>& properties) {
    check(api->sd_bus_message_open_container(m, 'a', "(sv)"), "properties");
    for (const auto& p : properties) {
        check(api->sd_bus_message_open_container(m, 'r', "sv"), "property " + p.name);
        check(api->sd_bus_message_append_basic(m, 's', p.name.c_str()), "property " + p.name);
        check(api->sd_bus_message_open_container(m, 'v', property_signature(p.value)), "property " + p.name);
        append_value(api, m, p.value, p.name);
        check(api->sd_bus_message_close_container(m), "property " + p.name);
        check(api->sd_bus_message_close_container(m), "property " + p.name);
    }
    check(api->sd_bus_message_close_container(m), "properties");
}

// JobRemoved(u id, o job, s unit, s result), collected for wait_for_job.
struct JobResult {
    std::string job;
    std::string result;
    bool seen = false;
    const SystemdBus::Api* api;
};

int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* wanted = static_cast<JobResult*>(userdata);
    uint32_t id = 0;
    const char *job = nullptr, *unit = nullptr, *result = nullptr;
    if (wanted->api->sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0) return 0;
    if (job && wanted->job == job) {
        wanted->seen = true;
        wanted->result = result ? result : "";
    }
    return 0;
}

}  // namespace

std::unique_ptr<SystemdBus> SystemdBus::connect() {
    const Api* api = load_api();
    const char* env = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    const std::string address = env && *env ? env : default_system_bus;
    sd_bus* bus = nullptr;
    check(api->sd_bus_new(&bus), "sd_bus_new");
    auto fail = [&](int r, const char* step) {
        api->sd_bus_flush_close_unref(bus);
        throw Error("--systemd-cgroup: cannot reach systemd on the system bus " + address + ": " + step + ": " +
                    std::strerror(-r));
    };
    int r = api->sd_bus_set_address(bus, address.c_str());
    if (r < 0) fail(r, "address");
    api->sd_bus_set_bus_client(bus, 1);
    r = api->sd_bus_start(bus);
    if (r < 0) fail(r, "connect");
    std::unique_ptr<SystemdBus> out(new SystemdBus(api, bus, address));
    // A first call: a bus without systemd on it (a bare dbus-daemon) fails here,
    // not in the middle of create. Subscribe also asks for JobRemoved signals.
    BusError error{api};
    Message reply{api};
    r = api->sd_bus_call_method(bus, destination, manager_path, manager_interface, "Subscribe", &error.e, &reply.m, "");
    if (r < 0)
        throw Error("--systemd-cgroup: cannot reach systemd on the system bus " + address + ": " + error.text(r));
    return out;
}

SystemdBus::SystemdBus(const Api* api, void* bus, std::string address)
    : api_(api), bus_(bus), address_(std::move(address)) {}

SystemdBus::~SystemdBus() { api_->sd_bus_flush_close_unref(static_cast<sd_bus*>(bus_)); }

std::string SystemdBus::unit_object_path(const std::string& unit) {
    return "/org/freedesktop/systemd1/unit/" + escape_label(unit);
}

void SystemdBus::start_transient_unit(const std::string& unit, const std::vector<UnitProperty>& properties) {
    auto* bus = static_cast<sd_bus*>(bus_);
    JobResult wanted{{}, {}, false, api_};
    sd_bus_slot* slot = nullptr;
    check(api_->sd_bus_match_signal(bus, &slot, destination, manager_path, manager_interface, "JobRemoved",
                                    on_job_removed, &wanted),
          "watch JobRemoved");
    struct SlotGuard {
        const Api* api;
        sd_bus_slot* s;
        ~SlotGuard() { api->sd_bus_slot_unref(s); }
    } slot_guard{api_, slot};

    Message call{api_};
    check(api_->sd_bus_message_new_method_call(bus, &call.m, destination, manager_path, manager_interface,
                                               "StartTransientUnit"),
          "StartTransientUnit");
    check(api_->sd_bus_message_append(call.m, "ss", unit.c_str(), "fail"), "StartTransientUnit");
    append_properties(api_, call.m, properties);
    check(api_->sd_bus_message_append(call.m, "a(sa(sv))", 0), "StartTransientUnit");
    BusError error{api_};
    Message reply{api_};
    int r = api_->sd_bus_call(bus, call.m, 0, &error.e, &reply.m);
    if (r < 0) throw Error("systemd: cannot start unit " + unit + ": " + error.text(r), -r);
    const char* job = nullptr;
    check(api_->sd_bus_message_read(reply.m, "o", &job), "StartTransientUnit reply");
    wanted.job = job;

    // Wait for the job: JobRemoved, or the unit already active if the signal
    // was lost (a reconnecting bus). Only then is the cgroup there to use.
    const uint64_t deadline = now_us() + job_timeout_us;
    while (!wanted.seen) {
        r = api_->sd_bus_process(bus, nullptr);
        check(r, "reading the bus");
        if (r > 0) continue;
        if (now_us() > deadline) throw Error("systemd: unit " + unit + " did not start within 60s");
        if (api_->sd_bus_wait(bus, 500000) == 0 && active_state(unit) == "active") return;
    }
    if (wanted.result != "done")
        throw Error("systemd: starting unit " + unit + " failed (job result \"" + wanted.result +
                    "\"); see journalctl -u " + unit);
}

void SystemdBus::set_unit_properties(const std::string& unit, const std::vector<UnitProperty>& properties) {
    if (properties.empty()) return;
    auto* bus = static_cast<sd_bus*>(bus_);
    Message call{api_};
    check(api_->sd_bus_message_new_method_call(bus, &call.m, destination, manager_path, manager_interface,
                                               "SetUnitProperties"),
          "SetUnitProperties");
    check(api_->sd_bus_message_append(call.m, "sb", unit.c_str(), 1), "SetUnitProperties");
    append_properties(api_, call.m, properties);
    BusError error{api_};
    Message reply{api_};
    int r = api_->sd_bus_call(bus, call.m, 0, &error.e, &reply.m);
    if (r < 0) throw Error("systemd: cannot set properties of unit " + unit + ": " + error.text(r), -r);
}

void SystemdBus::stop_unit(const std::string& unit) {
    auto* bus = static_cast<sd_bus*>(bus_);
    BusError error{api_};
    Message reply{api_};
    int r = api_->sd_bus_call_method(bus, destination, manager_path, manager_interface, "StopUnit", &error.e, &reply.m,
                                     "ss", unit.c_str(), "replace");
    if (r < 0) {
        if (error.is("org.freedesktop.systemd1.NoSuchUnit")) return;
        throw Error("systemd: cannot stop unit " + unit + ": " + error.text(r), -r);
    }
    // Polling the state is enough here: nothing is started after the stop.
    const uint64_t deadline = now_us() + job_timeout_us;
    for (;;) {
        const std::string state = active_state(unit);
        if (state.empty() || state == "inactive" || state == "failed") return;
        if (now_us() > deadline) throw Error("systemd: unit " + unit + " did not stop within 60s (" + state + ")");
        struct timespec pause = {0, 20 * 1000 * 1000};
        ::nanosleep(&pause, nullptr);
    }
}

void SystemdBus::reset_failed_unit(const std::string& unit) {
    BusError error{api_};
    Message reply{api_};
    api_->sd_bus_call_method(static_cast<sd_bus*>(bus_), destination, manager_path, manager_interface,
                             "ResetFailedUnit", &error.e, &reply.m, "s", unit.c_str());
}

namespace {
std::string read_string_property(const SystemdBus::Api* api, sd_bus* bus, const std::string& path,
                                 const char* interface, const char* member) {
    BusError error{api};
    Message reply{api};
    if (api->sd_bus_get_property(bus, destination, path.c_str(), interface, member, &error.e, &reply.m, "s") < 0)
        return "";
    const char* value = nullptr;
    if (api->sd_bus_message_read(reply.m, "s", &value) < 0 || !value) return "";
    return value;
}
}  // namespace

std::string SystemdBus::control_group(const std::string& unit) {
    return read_string_property(api_, static_cast<sd_bus*>(bus_), unit_object_path(unit),
                                "org.freedesktop.systemd1.Scope", "ControlGroup");
}

std::string SystemdBus::active_state(const std::string& unit) {
    return read_string_property(api_, static_cast<sd_bus*>(bus_), unit_object_path(unit),
                                "org.freedesktop.systemd1.Unit", "ActiveState");
}

}  // namespace tether::cgroups
