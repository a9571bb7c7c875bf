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

        // malloc serves a request from the free chunks and the top of the thread's arena before it maps anything, and
        // other tests in this process may have left large chunks there: allocate until those are used up (bounded; only
        // the chunk headers are touched), and a 1 MB block must then be a mapping of its own.
        var blocks = new List<IntPtr>();
        try
        {
            var mapped = false;
            while (!mapped && blocks.Count < 1024)
            {
                var block = Marshal.AllocHGlobal(1 << 20);
                blocks.Add(block);
                mapped = (Marshal.ReadInt64(block, -8) & IsMapped) != 0;
            }

            Assert.True(mapped, $"{blocks.Count} blocks of 1 MB all came from an arena, where each stays once freed.");
        }
        finally
        {
            blocks.ForEach(Marshal.FreeHGlobal);
        }
    }
}
