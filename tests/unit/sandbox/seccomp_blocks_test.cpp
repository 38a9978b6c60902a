// masked_blocks_excluding: the "not in set" comparison the closures are built
// from. Checked exhaustively on small widths, where every value can be tried.
#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/sandbox/seccomp_closures.hpp"

namespace tether::sandbox {
namespace {

int matching_blocks(const std::vector<MaskedValue>& blocks, std::uint32_t value) {
    return static_cast<int>(std::count_if(blocks.begin(), blocks.end(), [&](const MaskedValue& b) {
        return (value & b.mask) == b.value;
    }));
}

TEST(MaskedBlocks, CoverEveryValueExceptTheAllowedOnesExactlyOnce) {
    const std::vector<std::uint32_t> allowed = {0, 6, 17};
    const auto blocks = masked_blocks_excluding(allowed, 9);
    for (std::uint32_t value = 0; value < 512; ++value) {
        const bool is_allowed = std::find(allowed.begin(), allowed.end(), value) != allowed.end();
        EXPECT_EQ(matching_blocks(blocks, value), is_allowed ? 0 : 1) << "value " << value;
    }
}

TEST(MaskedBlocks, NothingAllowedIsOneBlockMatchingEverything) {
    const auto blocks = masked_blocks_excluding({}, 32);
    ASSERT_EQ(blocks.size(), 1u);
    EXPECT_EQ(blocks[0], (MaskedValue{0, 0}));
}

TEST(MaskedBlocks, ThirtyTwoBitBlocksStayFewAndMissTheAllowedValues) {
    const std::vector<std::uint32_t> allowed = {1, 2, 10, 16};
    const auto blocks = masked_blocks_excluding(allowed, 32);
    EXPECT_LE(blocks.size(), 32u * allowed.size());
    for (std::uint32_t value : allowed) EXPECT_EQ(matching_blocks(blocks, value), 0);
    for (std::uint32_t value : {0u, 3u, 9u, 11u, 17u, 45u, 0x80000000u, 0xffffffffu})
        EXPECT_EQ(matching_blocks(blocks, value), 1) << "value " << value;
}

}  // namespace
}  // namespace tether::sandbox
