using System.Runtime.InteropServices;
using Reference.ImageWorker.Pipeline;

namespace Reference.ImageWorker.Tests.Pipeline;

public sealed class NativeHeapTests
{
    // glibc marks a chunk that has its own mapping with this bit of the size word just before the block.
    private const long IsMapped = 0x2;

    [Fact]
    public void A_large_block_has_its_own_mapping_even_after_a_larger_one_was_freed()
    {
        Assert.True(NativeHeap.ReturnLargeBlocks());
        // Left to itself, glibc would now raise its threshold to 8 MB and serve the next block from an arena.
        Marshal.FreeHGlobal(Marshal.AllocHGlobal(8 << 20));

        var block = Marshal.AllocHGlobal(1 << 20);
        try
        {
            Assert.True((Marshal.ReadInt64(block, -8) & IsMapped) != 0, "A 1 MB block came from an arena, where it stays once freed.");
        }
        finally
        {
            Marshal.FreeHGlobal(block);
        }
    }
}
