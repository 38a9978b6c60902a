#include "runtime/cgroups/systemd_manager.hpp"

#include "runtime/cgroups/cgroup_fs.hpp"
#include "runtime/core/error.hpp"

namespace tether::cgroups {
namespace {

constexpr std::string_view saved_prefix = "systemd:";

std::string proc_devices() { return read_file_if_exists("/proc", "devices").value_or(""); }

}  // namespace

bool is_systemd_saved_path(const std::string& saved) { return saved.starts_with(saved_prefix); }

SystemdManager::SystemdManager(const CgroupRoot& root, std::string unit, std::string slice, std::string cgroup_path,
                               std::vector<UnitProperty> extra_properties)
    : root_(root),
      unit_(std::move(unit)),
      slice_(std::move(slice)),
      cgroup_path_(std::move(cgroup_path)),
      extra_properties_(std::move(extra_properties)),
      fs_(open_cgroup_manager(root_, cgroup_path_, false)),
      started_(false) {}

SystemdManager::SystemdManager(const CgroupRoot& root, std::string unit, std::string cgroup_path)
    : root_(root),
      unit_(std::move(unit)),
      cgroup_path_(std::move(cgroup_path)),
      fs_(open_cgroup_manager(root_, cgroup_path_, false)),
      started_(true) {}

std::string SystemdManager::saved_path() const { return std::string(saved_prefix) + unit_ + ":" + cgroup_path_; }

SystemdBus& SystemdManager::bus() {
    if (!bus_) bus_ = SystemdBus::connect();
    return *bus_;
}

void SystemdManager::forward_warnings() {
    for (const auto& w : fs_->warnings()) warn(w);
}

// create: only reach systemd. The scope itself needs a pid to start, so an
// unreachable systemd fails here, before the init exists.
void SystemdManager::create() { bus(); }

std::vector<UnitProperty> SystemdManager::start_properties(pid_t pid) const {
    // runc's and crun's set: systemd must leave the subtree to us (Delegate),
    // not order the scope after basic.target (DefaultDependencies=no).
    std::vector<UnitProperty> properties = {
        {"Description", std::string("tether container " + unit_)},
        {"Slice", slice_},
        {"Delegate", true},
        {"DefaultDependencies", false},
        {"PIDs", std::vector<uint32_t>{static_cast<uint32_t>(pid)}},
    };
    if (pending_) {
        auto translated = resources_to_properties(*pending_, fs_->layout(), proc_devices());
        properties.insert(properties.end(), translated.begin(), translated.end());
    }
    // Annotations last: the user's word wins over the translation.
    properties.insert(properties.end(), extra_properties_.begin(), extra_properties_.end());
    return properties;
}

void SystemdManager::apply_resources(const spec::Resources& resources) {
    if (!started_) {
        // Refuse bad values now, while nothing exists yet.
        resources_to_properties(resources, fs_->layout(), proc_devices());
        pending_ = resources;
        return;
    }
    // update: systemd first, so a daemon-reload does not undo the change,
    // then the files (what systemd has no property for).
    bus().set_unit_properties(unit_, resources_to_properties(resources, fs_->layout(), proc_devices()));
    fs_->apply_resources(resources);
    forward_warnings();
}

void SystemdManager::add_process(pid_t pid) {
    if (started_) {
        // exec: join the scope's cgroup in every hierarchy.
        fs_->add_process(pid);
        return;
    }
    bus().start_transient_unit(unit_, start_properties(pid));
    started_ = true;
    // systemd may root its tree elsewhere (it runs in a sub-cgroup itself):
    // its ControlGroup is the truth, and what later verbs will open.
    const std::string actual = bus().control_group(unit_);
    if (!actual.empty() && actual != cgroup_path_) {
        cgroup_path_ = actual;
        fs_ = open_cgroup_manager(root_, cgroup_path_, false);
    }
    // Hierarchies systemd does not manage (v1 freezer, cpuset, hugetlb...)
    // get the folder and the pid from us, as runc's joinCgroups does.
    fs_->create();
    fs_->add_process(pid);
    if (pending_) fs_->apply_resources(*pending_);
    forward_warnings();
}

void SystemdManager::destroy() {
    // Stop the unit (it kills what is left), wait for it to go, clear a
    // failed state so the name can be used again; then the folders systemd
    // does not own.
    // A create that failed before the unit started made nothing: the name
    // may belong to another container's unit ("already exists").
    if (!started_) return;
    try {
        bus().stop_unit(unit_);
        bus().reset_failed_unit(unit_);
    } catch (const Error& e) {
        warn(std::string(e.what()) + "; removing the cgroup folders only");
    }
    fs_->destroy();
    forward_warnings();
}

}  // namespace tether::cgroups
