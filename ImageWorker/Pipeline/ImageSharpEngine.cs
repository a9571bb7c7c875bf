using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata.Profiles.Icc;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp.Processing.Processors.Transforms;

namespace Reference.ImageWorker.Pipeline;

/// <summary>
/// The default engine, ImageSharp 2.1: one image from decode to the smallest variant, each resized in
/// place from the one before and turned upright after the first resize (measured in docs/performance.md).
/// ImageSharp 2.1 cannot convert ICC profiles: an RGB profile is kept, a CMYK or grey one (whose pixels
/// the decoder already made RGB) is dropped.
/// </summary>
public sealed class ImageSharpEngine(Configuration configuration, int jpegQuality, IResampler? resampler = null) : IImageEngine
{
    private readonly JpegEncoder _jpeg = new() { Quality = Math.Clamp(jpegQuality, 1, 100), ColorType = JpegColorType.YCbCrRatio420 };
    private readonly PngEncoder _png = new() { ColorType = PngColorType.RgbWithAlpha, BitDepth = PngBitDepth.Bit8 };
    private readonly IResampler _resampler = resampler ?? KnownResamplers.Bicubic;

    // Method 0 (fastest): −48% bytes against the JPEG at about 25 ms a variant; method 4 saves 8 points
    // more for 9× the CPU (docs/performance.md), which even a background pass should not spend.
    private readonly WebpEncoder _webp = new() { FileFormat = WebpFileFormatType.Lossy, Quality = WebpQuality, Method = WebpEncodingMethod.Fastest };

    /// <summary>Lossy WebP quality of both engines: q75 WebP is the usual match for q82 JPEG.</summary>
    public const int WebpQuality = 75;

    /// <summary>
    /// Only the formats we accept, one thread per job (the consumer runs one job per core), and a
    /// cap on any single buffer so a hostile header cannot take the process's memory.
    /// </summary>
    public static Configuration CreateConfiguration(int allocationLimitMegabytes) =>
        new(new JpegConfigurationModule(), new PngConfigurationModule(), new WebpConfigurationModule())
        {
            MaxDegreeOfParallelism = 1,
            MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions
            {
                AllocationLimitMegabytes = allocationLimitMegabytes,
            }),
        };

    public IEnumerable<EncodedVariant> Render(byte[] original, OriginalImage info, IReadOnlyList<VariantSize> largestFirst, CancellationToken cancellationToken)
    {
        using var image = Decode(original, info.Format);
        while (image.Frames.Count > 1)
        {
            image.Frames.RemoveFrame(1);
        }

        var transparent = image is Image<Rgba32> rgba && HasTransparentPixel(rgba);
        var (encoder, format) = transparent ? ((IImageEncoder)_png, "png") : (_jpeg, "jpeg");

        var upright = false;
        foreach (var size in largestFirst)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // A square box: ResizeMode.Max fits the longest side whichever way the photo is stored.
            if (Math.Max(image.Width, image.Height) > size.LongestSide)
            {
                image.Mutate(x => x.Resize(new ResizeOptions
                {
                    Size = new Size(size.LongestSide, size.LongestSide),
                    Mode = ResizeMode.Max,
                    Sampler = _resampler,
                }));
            }

            if (!upright)
            {
                image.Mutate(x => x.AutoOrient());
                StripMetadata(image);
                upright = true;
            }

            using var encoded = new MemoryStream(64 * 1024);
            image.Save(encoded, encoder);
            yield return new EncodedVariant(size.Name, image.Width, image.Height, format, encoded.GetBuffer().AsMemory(0, (int)encoded.Length));
        }
    }

    public byte[] EncodeWebp(byte[] variant)
    {
        // The variants are this pipeline's own JPEGs (opaque) and PNGs (transparent).
        using var image = Decode(variant, variant is [0xFF, 0xD8, ..] ? OriginalFormat.Jpeg : OriginalFormat.Png);
        using var encoded = new MemoryStream(variant.Length);
        image.Save(encoded, _webp);
        return encoded.ToArray();
    }

    private Image Decode(byte[] bytes, OriginalFormat format)
    {
        try
        {
            return format is OriginalFormat.Jpeg
                ? Image.Load<Rgb24>(configuration, bytes)
                : Image.Load<Rgba32>(configuration, bytes);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw Corrupt(e);
        }

        // 2.1's decoders throw their own exceptions for most damage but NullReference or
        // IndexOutOfRange for some: from a byte array, every one of them means bad bytes.
        // The allocation limit's exception may come wrapped in the decoder's.
        static UnprocessableImageException Corrupt(Exception e)
        {
            for (var inner = e; inner is not null; inner = inner.InnerException)
            {
                if (inner is InvalidMemoryOperationException)
                {
                    return new UnprocessableImageException(UnprocessableImageException.TooLargeForMemory, e);
                }
            }

            return e is UnknownImageFormatException
                ? new UnprocessableImageException(UnprocessableImageException.NotAnImage, e)
                : new UnprocessableImageException(UnprocessableImageException.Corrupt, e);
        }
    }

    private static void StripMetadata(Image image)
    {
        var icc = image.Metadata.IccProfile ?? image.Frames.RootFrame.Metadata.IccProfile;
        var keptIcc = icc?.Header.DataColorSpace == IccColorSpaceType.Rgb ? icc : null;

        image.Metadata.ExifProfile = null;
        image.Metadata.XmpProfile = null;
        image.Metadata.IptcProfile = null;
        image.Metadata.IccProfile = keptIcc;
        foreach (var frame in image.Frames)
        {
            frame.Metadata.ExifProfile = null;
            frame.Metadata.XmpProfile = null;
            frame.Metadata.IptcProfile = null;
            frame.Metadata.IccProfile = keptIcc;
        }

        image.Metadata.GetPngMetadata().TextData.Clear();
    }

    private static bool HasTransparentPixel(Image<Rgba32> image)
    {
        var transparent = false;
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height && !transparent; y++)
            {
                foreach (ref var pixel in rows.GetRowSpan(y))
                {
                    if (pixel.A != byte.MaxValue)
                    {
                        transparent = true;
                        break;
                    }
                }
            }
        });
        return transparent;
    }
}
