using Reference.Contracts;

namespace Reference.ImageWorker.Pipeline;

/// <summary>The <c>Images</c> configuration section.</summary>
public sealed class ImageOptions
{
    public const string SectionName = "Images";

    /// <summary>Variant name → longest side in pixels. Empty in configuration means <see cref="DefaultVariants"/>.</summary>
    public Dictionary<string, int> Variants { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public static IReadOnlyDictionary<string, int> DefaultVariants { get; } =
        new Dictionary<string, int> { ["thumb"] = 200, ["card"] = 600, ["detail"] = 1600 };

    /// <summary>
    /// Which library makes the variants: <see cref="ImageEngineKind.LibVips"/> (native, the default: faster end to
    /// end, docs/performance.md) or <see cref="ImageEngineKind.ImageSharp"/> (managed), held to the same tests.
    /// </summary>
    public ImageEngineKind Engine { get; set; } = ImageEngineKind.LibVips;

    /// <summary>JPEG quality (1–100) of the opaque variants.</summary>
    public int JpegQuality { get; set; } = 82;

    /// <summary>Pixel-flood guard, checked on the header before decoding (the same limits as UploadApi).</summary>
    public long MaxPixels { get; set; } = ImageLimits.MaxPixels;

    public int MaxSide { get; set; } = ImageLimits.MaxSide;

    /// <summary>
    /// The largest single buffer ImageSharp may allocate. A 50-megapixel RGBA image needs 200 MB,
    /// so the default lets every image that passes the header guard through and stops a header that lies.
    /// </summary>
    public int AllocationLimitMegabytes { get; set; } = 256;

    /// <summary>
    /// How many starts of one upload may die with their worker before the upload is run alone in a
    /// worker; if it dies alone too, it is failed as poison (a job that kills the process).
    /// </summary>
    public int MaxProcessingAttempts { get; set; } = 3;

    /// <summary>
    /// The memory this process's jobs may hold at once, estimated from each image's header
    /// (width × height × bytes per pixel): inside compose's 512 MB with room for the runtime.
    /// </summary>
    public int MemoryBudgetMegabytes { get; set; } = 320;

    /// <summary>
    /// The longest one job may decode and resize (a 50-megapixel photo takes a few seconds). Past it
    /// the process ends, supervision starts a new one, and the poison guard decides about the job.
    /// </summary>
    public TimeSpan JobTimeBudget { get; set; } = TimeSpan.FromMinutes(2);

    public IEnumerable<KeyValuePair<string, int>> VariantsLargestFirst =>
        (Variants.Count > 0 ? Variants : DefaultVariants).OrderByDescending(v => v.Value);
}
