namespace Reference.ImageWorker.Pipeline;

/// <summary>
/// What turns the bytes of one original into encoded variants: decode once, turn upright, drop
/// personal metadata, resize largest first (each smaller from the larger) and encode. The
/// <see cref="VariantWriter"/> around it owns everything else (the size and truncation guards, the
/// files, idempotency), so every engine gets the same checks and the same storage layout.
/// </summary>
public interface IImageEngine
{
    /// <summary>
    /// The variants in the order of <paramref name="largestFirst"/>, yielded one at a time so the
    /// caller can write each before the next is made.
    /// </summary>
    /// <exception cref="UnprocessableImageException">The bytes cannot be decoded.</exception>
    IEnumerable<EncodedVariant> Render(byte[] original, OriginalImage info, IReadOnlyList<VariantSize> largestFirst, CancellationToken cancellationToken);

    /// <summary>
    /// A variant this pipeline wrote (JPEG or PNG) as lossy WebP, transparency and ICC profile kept: the
    /// background pass after Ready (<see cref="WebpCopies"/>), so its cost never delays an upload.
    /// </summary>
    /// <exception cref="UnprocessableImageException">The bytes are not an image.</exception>
    byte[] EncodeWebp(byte[] variant);
}

/// <summary>What the header says about an original that passed the guards.</summary>
public sealed record OriginalImage(int Width, int Height, OriginalFormat Format);

public enum OriginalFormat
{
    Jpeg,
    Png,
    Webp,
}

public sealed record VariantSize(string Name, int LongestSide);

/// <param name="Format"><c>jpeg</c> or <c>png</c>, as <see cref="Reference.Contracts.ImageVariant.Format"/>.</param>
public sealed record EncodedVariant(string Name, int Width, int Height, string Format, ReadOnlyMemory<byte> Bytes)
{
    public string Extension => Format == "png" ? "png" : "jpg";
}

/// <summary>The <c>Images:Engine</c> setting.</summary>
public enum ImageEngineKind
{
    /// <summary>SixLabors.ImageSharp: managed code, the default.</summary>
    ImageSharp,

    /// <summary>libvips through NetVips: native, shrink-on-load, faster (see docs/performance.md).</summary>
    LibVips,
}
