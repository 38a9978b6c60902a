// The few calls of systemd's D-Bus API the systemd driver makes, through
// sd-bus (libsystemd). libsystemd is loaded with dlopen("libsystemd.so.0")
// the first time a bus is opened, so the cgroupfs path of the static tether
// binary neither links nor loads it (docs/cgroups.md has the measurements).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "runtime/cgroups/systemd_properties.hpp"

namespace tether::cgroups {

class SystemdBus {
public:
    // Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS or
    // unix:path=/run/dbus/system_bus_socket). Throws tether::Error naming
    // the bus address and the reason when systemd cannot be reached.
    static std::unique_ptr<SystemdBus> connect();
    ~SystemdBus();
    SystemdBus(const SystemdBus&) = delete;
    SystemdBus& operator=(const SystemdBus&) = delete;

    // StartTransientUnit(unit, "fail", properties) and waits for its job to
    // finish (JobRemoved, or the unit turning active when the signal is lost);
    // throws with systemd's reason when the job fails.
    void start_transient_unit(const std::string& unit, const std::vector<UnitProperty>& properties);
    // SetUnitProperties(unit, runtime=true, properties).
    void set_unit_properties(const std::string& unit, const std::vector<UnitProperty>& properties);
    // StopUnit and waits until the unit is gone; a unit that does not exist is fine.
    void stop_unit(const std::string& unit);
    // ResetFailedUnit; errors are ignored (the unit may not be failed or loaded).
    void reset_failed_unit(const std::string& unit);
    // The unit's ControlGroup property ("" when systemd does not know the unit).
    std::string control_group(const std::string& unit);
    // ActiveState of the unit ("" when the unit is unknown).
    std::string active_state(const std::string& unit);

    const std::string& address() const { return address_; }

    struct Api;  // the dlsym'd functions (systemd_bus.cpp)

private:
    SystemdBus(const Api* api, void* bus, std::string address);
    std::string unit_object_path(const std::string& unit);

    const Api* api_;
    void* bus_;
    std::string address_;
};

}  // namespace tether::cgroups
