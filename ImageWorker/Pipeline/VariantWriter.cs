using System.Buffers.Binary;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using Reference.Contracts;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata.Profiles.Icc;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Reference.ImageWorker.Pipeline;

/// <summary>
/// The image pipeline: turns one stored original into the web variants and writes them under
/// <c>{Storage:Root}/variants/{uploadId}/{variant}.{ext}</c>.
/// <list type="bullet">
/// <item>Decoded once; the variants are made largest first, each smaller one from the one before.</item>
/// <item>Turned upright from the EXIF orientation, then EXIF, XMP, IPTC and PNG text are dropped:
/// no GPS position, camera or owner data leaves. No variant is larger than the original.</item>
/// <item>Colour: ImageSharp 2.1 cannot convert between ICC profiles, so an RGB profile (Display P3,
/// Adobe RGB…) is kept on the variants and browsers render it right; a CMYK or grey profile is
/// dropped, because the decoder has already turned those pixels into plain RGB that the profile no
/// longer describes (they are then shown as sRGB).</item>
/// <item>Opaque images become JPEG. Images with at least one transparent pixel become PNG: every
/// browser shows it, the edges of cut-out product shots stay clean, and flattening on a colour would
/// guess the page behind it.</item>
/// </list>
/// Each file is written under a temporary name in its final folder and then renamed over the final
/// name, so a reader (the gateway, a redelivered job) sees the old file or the whole new one.
/// </summary>
public sealed class VariantWriter
{
    public const string VariantsFolder = "variants";

    private static readonly ActivitySource Tracing = new("Reference.ImageWorker");

    private readonly ImageOptions _options;
    private readonly string _root;
    private readonly JpegEncoder _jpeg;
    private readonly PngEncoder _png = new()
    {
        ColorType = PngColorType.RgbWithAlpha,
        BitDepth = PngBitDepth.Bit8,
    };

    public VariantWriter(IOptions<ImageOptions> options, IOptions<StorageOptions> storage)
    {
        _options = options.Value;
        _root = string.IsNullOrWhiteSpace(storage.Value.Root)
            ? throw new InvalidOperationException("Storage:Root is not set: the folder shared with UploadApi and the gateway.")
            : Path.TrimEndingDirectorySeparator(Path.GetFullPath(storage.Value.Root));
        _jpeg = new JpegEncoder { Quality = Math.Clamp(_options.JpegQuality, 1, 100), ColorType = JpegColorType.YCbCrRatio420 };
        Configuration = CreateConfiguration(_options);
    }

    /// <summary>
    /// Only the formats we accept, one thread per job (the consumer runs one job per core), and a
    /// cap on any single buffer so a hostile header cannot take the process's memory.
    /// </summary>
    public Configuration Configuration { get; }

    public static Configuration CreateConfiguration(ImageOptions options) =>
        new(new JpegConfigurationModule(), new PngConfigurationModule(), new WebpConfigurationModule())
        {
            MaxDegreeOfParallelism = 1,
            MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions
            {
                AllocationLimitMegabytes = options.AllocationLimitMegabytes,
            }),
        };

    public string VariantFolder(Guid uploadId) => Path.Combine(_root, VariantsFolder, uploadId.ToString());

    /// <summary>Decodes the original and writes every variant, replacing any written before.</summary>
    /// <exception cref="UnprocessableImageException">The original can never be processed.</exception>
    public IReadOnlyList<ImageVariant> Write(Guid uploadId, string originalKey, CancellationToken cancellationToken = default)
    {
        using var activity = Tracing.StartActivity("write image variants");
        activity?.SetTag("upload.id", uploadId);

        using var image = Decode(OriginalPath(originalKey));
        Prepare(image);

        var transparent = image is Image<Rgba32> rgba && HasTransparentPixel(rgba);
        var (encoder, format, extension) = transparent
            ? ((IImageEncoder)_png, "png", "png")
            : (_jpeg, "jpeg", "jpg");
        activity?.SetTag("image.width", image.Width);
        activity?.SetTag("image.height", image.Height);
        activity?.SetTag("image.output_format", format);

        var folder = VariantFolder(uploadId);
        Directory.CreateDirectory(folder);

        var variants = new List<ImageVariant>();
        Image? larger = null;
        try
        {
            foreach (var (name, longestSide) in _options.VariantsLargestFirst)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var source = larger ?? image;
                var variant = source.Clone(x =>
                {
                    if (Math.Max(source.Width, source.Height) > longestSide)
                    {
                        x.Resize(new ResizeOptions { Size = new Size(longestSide, longestSide), Mode = ResizeMode.Max });
                    }
                });
                larger?.Dispose();
                larger = variant;

                var fileName = $"{name}.{extension}";
                var bytes = WriteAtomically(variant, encoder, Path.Combine(folder, fileName));
                variants.Add(new ImageVariant(name, variant.Width, variant.Height, format, bytes, $"{uploadId}/{fileName}"));
            }
        }
        finally
        {
            larger?.Dispose();
        }

        // Temporary files of an earlier attempt whose process died mid-write.
        foreach (var leftover in Directory.EnumerateFiles(folder, "*.tmp"))
        {
            File.Delete(leftover);
        }

        // Smallest first, as people list them: thumb, card, detail.
        variants.Reverse();
        return variants;
    }

    /// <summary>
    /// The variants of an earlier complete run, read back from disk, or null when any is missing.
    /// Files are only ever renamed into place whole, so one that exists is complete.
    /// </summary>
    public IReadOnlyList<ImageVariant>? FindExisting(Guid uploadId)
    {
        var folder = VariantFolder(uploadId);
        if (!Directory.Exists(folder))
        {
            return null;
        }

        var variants = new List<ImageVariant>();
        foreach (var (name, _) in _options.VariantsLargestFirst)
        {
            var path = new[] { "jpg", "png" }.Select(ext => Path.Combine(folder, $"{name}.{ext}")).FirstOrDefault(File.Exists);
            if (path is null)
            {
                return null;
            }

            var info = Image.Identify(Configuration, path, out var format);
            if (info is null)
            {
                return null;
            }

            var fileName = Path.GetFileName(path);
            variants.Add(new ImageVariant(name, info.Width, info.Height, format is PngFormat ? "png" : "jpeg",
                new FileInfo(path).Length, $"{uploadId}/{fileName}"));
        }

        variants.Reverse();
        return variants;
    }

    /// <summary>Removes whatever an unfinished attempt left for the upload.</summary>
    public void DeleteVariants(Guid uploadId)
    {
        var folder = VariantFolder(uploadId);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private string OriginalPath(string originalKey)
    {
        var path = Path.GetFullPath(Path.Combine(_root, originalKey));
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new UnprocessableImageException($"The original's key '{originalKey}' is outside the image storage.");
        }

        return path;
    }

    private Image Decode(string path)
    {
        byte[] bytes;
        try
        {
            // Read whole (UploadApi caps originals at 25 MB): an I/O error here is transient and
            // retried, while anything the decoder throws afterwards is about the bytes themselves.
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // UploadApi stores the original before it publishes, so a missing one will not appear later.
            throw new UnprocessableImageException("The original file is missing from storage.", e);
        }

        IImageInfo? info;
        IImageFormat? format;
        try
        {
            info = Image.Identify(Configuration, bytes, out format);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw Corrupt(e);
        }

        if (info is null || format is null)
        {
            throw new UnprocessableImageException("The file is not a JPEG, PNG or WebP image.");
        }

        if (info.Width <= 0 || info.Height <= 0
            || info.Width > _options.MaxSide || info.Height > _options.MaxSide
            || (long)info.Width * info.Height > _options.MaxPixels)
        {
            throw new UnprocessableImageException(
                $"The image is {info.Width}×{info.Height} pixels; the limit is {_options.MaxSide} pixels a side and {_options.MaxPixels / 1_000_000.0:0.#} megapixels.");
        }

        if (!IsComplete(format, bytes))
        {
            // ImageSharp 2.1 decodes a cut-off file without complaint, filling the rest with grey.
            throw new UnprocessableImageException("The image file is truncated: it ends before the image does.");
        }

        try
        {
            // JPEG has no alpha: three bytes a pixel is a quarter less memory and work.
            return format is JpegFormat
                ? Image.Load<Rgb24>(Configuration, bytes)
                : Image.Load<Rgba32>(Configuration, bytes);
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
                    return new UnprocessableImageException("The image needs more memory than one image may use.", e);
                }
            }

            return e is UnknownImageFormatException
                ? new UnprocessableImageException("The file is not a JPEG, PNG or WebP image.", e)
                : new UnprocessableImageException("The image is corrupt or uses an encoding that cannot be read.", e);
        }
    }

    private static bool IsComplete(IImageFormat format, ReadOnlySpan<byte> bytes) => format switch
    {
        JpegFormat => JpegHasEndOfImage(bytes),
        PngFormat => PngHasEndChunk(bytes),
        // RIFF: the size after "RIFF" counts every byte after it.
        WebpFormat => bytes.Length >= 8 && bytes.Length - 8L >= BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]),
        _ => false,
    };

    /// <summary>
    /// True when an end-of-image marker follows the start of the scan. Walking the segment headers
    /// skips an EXIF thumbnail's own end marker; trailers after the real end (some cameras add them)
    /// are fine.
    /// </summary>
    private static bool JpegHasEndOfImage(ReadOnlySpan<byte> jpeg)
    {
        var position = 2;
        while (position + 4 <= jpeg.Length && jpeg[position] == 0xFF)
        {
            var marker = jpeg[position + 1];
            if (marker == 0xFF)
            {
                position++;
                continue;
            }

            if (marker == 0xDA)
            {
                return jpeg[position..].IndexOf([(byte)0xFF, (byte)0xD9]) >= 0;
            }

            position += 2 + ((jpeg[position + 2] << 8) | jpeg[position + 3]);
        }

        return false;
    }

    /// <summary>True when the chunks, walked by their lengths, reach IEND inside the file.</summary>
    private static bool PngHasEndChunk(ReadOnlySpan<byte> png)
    {
        long position = 8;
        while (position + 12 <= png.Length)
        {
            var chunk = png[(int)position..];
            if (chunk[4..8].SequenceEqual("IEND"u8))
            {
                return true;
            }

            position += 12L + BinaryPrimitives.ReadUInt32BigEndian(chunk);
        }

        return false;
    }

    private static void Prepare(Image image)
    {
        while (image.Frames.Count > 1)
        {
            image.Frames.RemoveFrame(1);
        }

        image.Mutate(x => x.AutoOrient());

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

    private static long WriteAtomically(Image image, IImageEncoder encoder, string path)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920))
            {
                image.Save(file, encoder);
                file.Flush(flushToDisk: true);
            }

            var bytes = new FileInfo(temporary).Length;
            File.Move(temporary, path, overwrite: true);
            return bytes;
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
