// linux.resources -> unit properties (runc's translation) and the
// org.systemd.property.* annotations.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/cgroups/systemd_properties.hpp"
#include "runtime/core/error.hpp"
#include "tests/unit/error_message.hpp"

namespace tether::cgroups {
namespace {

using ::testing::HasSubstr;

const PropertyValue* find(const std::vector<UnitProperty>& properties, const std::string& name) {
    for (const auto& p : properties)
        if (p.name == name) return &p.value;
    return nullptr;
}

template <typename T>
T value_of(const std::vector<UnitProperty>& properties, const std::string& name) {
    const PropertyValue* v = find(properties, name);
    EXPECT_NE(v, nullptr) << name << " missing";
    if (!v) return T{};
    EXPECT_TRUE(std::holds_alternative<T>(*v)) << name << " has signature " << property_signature(*v);
    return std::holds_alternative<T>(*v) ? std::get<T>(*v) : T{};
}

spec::Resources sample() {
    spec::Resources r;
    r.memory = spec::MemoryResources{};
    r.memory->limit = 64 << 20;
    r.memory->reservation = 32 << 20;
    r.memory->swap = 96 << 20;
    r.cpu = spec::CpuResources{};
    r.cpu->shares = 1024;
    r.cpu->quota = 50000;
    r.cpu->period = 100000;
    r.cpu->cpus = "0-1";
    r.pids = spec::PidsResources{42};
    r.block_io = spec::BlockIoResources{};
    r.block_io->weight = 500;
    return r;
}

TEST(SystemdProperties, V2NamesAndConversions) {
    auto p = resources_to_properties(sample(), CgroupLayout::unified, "");
    EXPECT_EQ(value_of<uint64_t>(p, "MemoryMax"), 64u << 20);
    EXPECT_EQ(value_of<uint64_t>(p, "MemoryLow"), 32u << 20);
    EXPECT_EQ(value_of<uint64_t>(p, "MemorySwapMax"), 32u << 20) << "swap alone, not memory+swap";
    EXPECT_EQ(value_of<uint64_t>(p, "CPUWeight"), 39u);
    EXPECT_EQ(value_of<uint64_t>(p, "CPUQuotaPerSecUSec"), 500000u);
    EXPECT_EQ(value_of<uint64_t>(p, "CPUQuotaPeriodUSec"), 100000u);
    EXPECT_EQ(value_of<uint64_t>(p, "TasksMax"), 42u);
    EXPECT_EQ(value_of<uint64_t>(p, "IOWeight"), 4950u);
    EXPECT_EQ(value_of<std::vector<uint8_t>>(p, "AllowedCPUs"), std::vector<uint8_t>{0x03});
    EXPECT_EQ(find(p, "MemoryLimit"), nullptr);
    EXPECT_EQ(find(p, "CPUShares"), nullptr);
}

TEST(SystemdProperties, V1AndHybridUseTheV1Names) {
    for (auto layout : {CgroupLayout::legacy, CgroupLayout::hybrid}) {
        auto p = resources_to_properties(sample(), layout, "");
        EXPECT_EQ(value_of<uint64_t>(p, "MemoryLimit"), 64u << 20);
        EXPECT_EQ(value_of<uint64_t>(p, "CPUShares"), 1024u);
        EXPECT_EQ(value_of<uint64_t>(p, "BlockIOWeight"), 500u);
        EXPECT_EQ(value_of<uint64_t>(p, "TasksMax"), 42u);
        EXPECT_EQ(find(p, "MemoryMax"), nullptr);
        EXPECT_EQ(find(p, "CPUWeight"), nullptr);
    }
}

TEST(SystemdProperties, QuotaIsRoundedUpToWholePercentsAndUnlimitedIsInfinity) {
    spec::Resources r;
    r.cpu = spec::CpuResources{};
    r.cpu->quota = 12345;  // 12.345% of a CPU with the default period
    EXPECT_EQ(value_of<uint64_t>(resources_to_properties(r, CgroupLayout::unified, ""), "CPUQuotaPerSecUSec"), 130000u);
    r.cpu->quota = -1;
    EXPECT_EQ(value_of<uint64_t>(resources_to_properties(r, CgroupLayout::unified, ""), "CPUQuotaPerSecUSec"),
              systemd_infinity);
    spec::Resources m;
    m.memory = spec::MemoryResources{};
    m.memory->limit = -1;
    m.pids = spec::PidsResources{-1};
    auto p = resources_to_properties(m, CgroupLayout::unified, "");
    EXPECT_EQ(value_of<uint64_t>(p, "MemoryMax"), systemd_infinity);
    EXPECT_EQ(value_of<uint64_t>(p, "TasksMax"), systemd_infinity);
}

TEST(SystemdProperties, NothingSetNothingSent) {
    EXPECT_TRUE(resources_to_properties(spec::Resources{}, CgroupLayout::unified, "").empty());
}

TEST(SystemdProperties, SwapBelowTheLimitIsRefusedNamingTheField) {
    spec::Resources r;
    r.memory = spec::MemoryResources{};
    r.memory->limit = 100;
    r.memory->swap = 50;
    EXPECT_THAT(test_support::error_message<Error>([&] { resources_to_properties(r, CgroupLayout::unified, ""); }),
                HasSubstr("linux.resources.memory.swap"));
}

TEST(SystemdProperties, DevicesBecomeAStrictPolicyWithAllowEntries) {
    spec::Resources r;
    r.devices = {
        {false, "a", std::nullopt, std::nullopt, "rwm"},
        {true, "c", 1, 3, "rwm"},
        {true, "c", 136, std::nullopt, "rw"},
        {true, "b", std::nullopt, std::nullopt, "m"},
    };
    const std::string proc_devices = "Character devices:\n  1 mem\n136 pts\n\nBlock devices:\n  8 sd\n";
    auto p = resources_to_properties(r, CgroupLayout::unified, proc_devices);
    EXPECT_EQ(value_of<std::string>(p, "DevicePolicy"), "strict");
    DeviceAllowList expected = {{"/dev/char/1:3", "rwm"}, {"char-pts", "rw"}, {"block-*", "m"}};
    EXPECT_EQ(value_of<DeviceAllowList>(p, "DeviceAllow"), expected);
    r.devices.push_back({true, "a", std::nullopt, std::nullopt, "rwm"});
    auto all = resources_to_properties(r, CgroupLayout::unified, proc_devices);
    EXPECT_EQ(value_of<std::string>(all, "DevicePolicy"), "auto");
    EXPECT_EQ(find(all, "DeviceAllow"), nullptr);
}

TEST(SystemdProperties, CpuListsBecomeBitmasks) {
    EXPECT_EQ(cpu_list_to_mask("0", "f"), std::vector<uint8_t>({0x01}));
    EXPECT_EQ(cpu_list_to_mask("0-3,9", "f"), std::vector<uint8_t>({0x0f, 0x02}));
    EXPECT_THROW(cpu_list_to_mask("3-1", "f"), Error);
    EXPECT_THROW(cpu_list_to_mask("x", "f"), Error);
}

std::vector<UnitProperty> annotations(const std::string& key, const std::string& value) {
    return parse_property_annotations({{"org.systemd.property." + key, value}, {"other.annotation", "x"}});
}

std::string annotation_error(const std::string& key, const std::string& value) {
    return test_support::error_message<Error>([&] { annotations(key, value); });
}

TEST(SystemdAnnotations, TypedValues) {
    EXPECT_EQ(annotations("CollectMode", "'inactive-or-failed'"),
              (std::vector<UnitProperty>{{"CollectMode", std::string("inactive-or-failed")}}));
    EXPECT_EQ(annotations("IOAccounting", "true"), (std::vector<UnitProperty>{{"IOAccounting", true}}));
    EXPECT_EQ(annotations("IOAccounting", "boolean false"), (std::vector<UnitProperty>{{"IOAccounting", false}}));
    EXPECT_EQ(annotations("CPUWeight", "uint64 300"), (std::vector<UnitProperty>{{"CPUWeight", uint64_t{300}}}));
    EXPECT_EQ(annotations("Nice", "int32 -5"), (std::vector<UnitProperty>{{"Nice", int32_t{-5}}}));
    EXPECT_EQ(annotations("Abc", "uint32 7"), (std::vector<UnitProperty>{{"Abc", uint32_t{7}}}));
    EXPECT_EQ(annotations("Abc", "int64 -7"), (std::vector<UnitProperty>{{"Abc", int64_t{-7}}}));
    EXPECT_EQ(annotations("Abc", "42"), (std::vector<UnitProperty>{{"Abc", int32_t{42}}}));
    EXPECT_EQ(annotations("Abc", "['a', \"b\"]"),
              (std::vector<UnitProperty>{{"Abc", std::vector<std::string>{"a", "b"}}}));
}

TEST(SystemdAnnotations, SecondsBecomeMicroseconds) {
    EXPECT_EQ(annotations("TimeoutStopSec", "uint64 5"),
              (std::vector<UnitProperty>{{"TimeoutStopUSec", uint64_t{5000000}}}));
    EXPECT_EQ(annotations("TimeoutStopUSec", "uint64 5000000"),
              (std::vector<UnitProperty>{{"TimeoutStopUSec", uint64_t{5000000}}}));
    EXPECT_NE(annotation_error("TimeoutStopSec", "'soon'").find("org.systemd.property.TimeoutStopSec"),
              std::string::npos);
}

TEST(SystemdAnnotations, BadInputIsRefusedNamingTheAnnotation) {
    for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"TimeoutStopUSec", "uint128 5"},
             {"TimeoutStopUSec", "uint64 -5"},
             {"TimeoutStopUSec", "uint64 five"},
             {"CollectMode", "'unterminated"},
             {"IOAccounting", "boolean maybe"},
             {"Abc", ""},
             {"Ab", "true"},
             {"A_b", "true"},
         }) {
        const std::string error = annotation_error(key, value);
        EXPECT_NE(error.find("org.systemd.property." + key), std::string::npos) << key << "=" << value << ": " << error;
    }
    EXPECT_NE(annotation_error("Abc", "uint128 5").find("unknown type \"uint128\""), std::string::npos);
}

}  // namespace
}  // namespace tether::cgroups
