using System.Runtime.InteropServices;

namespace Reference.ImageWorker.Pipeline;

/// <summary>
/// glibc's malloc, which libvips allocates its pixels from. By default a freed large block raises the size above
/// which malloc maps memory of its own (up to 32 MB), so later image buffers come from the arenas instead, and
/// an arena keeps what is freed in it; there are up to 8 arenas per core, one per thread that met a busy one,
/// and libvips runs on whichever thread-pool thread is free. After 200 uploads the libvips worker sat at 550 MB
/// (docs/performance.md, "Worker peak memory"). A fixed threshold maps every large buffer and unmaps it when freed.
/// </summary>
public static partial class NativeHeap
{
    /// <summary>Blocks from this size up are mapped for themselves: glibc's own starting threshold, never raised.</summary>
    public const int MapFromBytes = 128 * 1024;

    // M_MMAP_THRESHOLD in glibc's malloc.h; setting it also turns off its raising.
    private const int MmapThresholdParameter = -3;

    /// <summary>Fixes malloc's mapping threshold at <see cref="MapFromBytes"/>; nothing where malloc is not glibc's.</summary>
    /// <returns>Whether the threshold was set.</returns>
    public static bool ReturnLargeBlocks()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            return Mallopt(MmapThresholdParameter, MapFromBytes) == 1;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);
}
