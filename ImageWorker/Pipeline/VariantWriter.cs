using System.Diagnostics;
using Microsoft.Extensions.Options;
using Reference.Contracts;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;

namespace Reference.ImageWorker.Pipeline;

/// <summary>
/// The image pipeline: checks the original's header (pixel limits, truncation), has the engine decode it
/// once, turn it upright, drop EXIF/XMP/IPTC and make the variants (<see cref="ImageOptions.DefaultVariants"/>)
/// largest first, then writes each under a temporary name and renames it, so readers never see half a file.
/// </summary>
public sealed class VariantWriter
{
    private static readonly ActivitySource Tracing = new("Reference.ImageWorker");

    private readonly ImageOptions _options;
    private readonly string _root;
    private readonly IImageEngine _engine;

    public VariantWriter(IOptions<ImageOptions> options, IOptions<ImageStorage> storage)
        : this(options, storage, engine: null)
    {
    }

    /// <summary>With an engine of the caller's (the benchmarks try variations on one); null means <c>Images:Engine</c>.</summary>
    public VariantWriter(IOptions<ImageOptions> options, IOptions<ImageStorage> storage, IImageEngine? engine)
    {
        _options = options.Value;
        _root = string.IsNullOrWhiteSpace(storage.Value.Root)
            ? throw new InvalidOperationException("Storage:Root is not set: the folder shared with UploadApi and the gateway.")
            : Path.TrimEndingDirectorySeparator(Path.GetFullPath(storage.Value.Root));
        Configuration = ImageSharpEngine.CreateConfiguration(_options.AllocationLimitMegabytes);
        _engine = engine ?? _options.Engine switch
        {
            ImageEngineKind.LibVips => new LibVipsEngine(_options.JpegQuality, _options.AllocationLimitMegabytes),
            _ => new ImageSharpEngine(Configuration, _options.JpegQuality),
        };
    }

    /// <summary>ImageSharp's configuration for reading headers (and for decoding, with the ImageSharp engine).</summary>
    public Configuration Configuration { get; }

    public string VariantFolder(Guid uploadId) => Path.Combine(_root, ImageStorage.VariantsFolder, uploadId.ToString());

    /// <summary>Decodes the original and writes every variant, replacing any written before.</summary>
    /// <exception cref="UnprocessableImageException">The original can never be processed.</exception>
    public IReadOnlyList<ImageVariant> Write(Guid uploadId, string originalKey, CancellationToken cancellationToken = default)
    {
        using var activity = Tracing.StartActivity("write image variants");
        activity?.SetTag("upload.id", uploadId);
        activity?.SetTag("image.engine", _options.Engine.ToString());

        var (bytes, original) = ReadOriginal(OriginalPath(originalKey));
        activity?.SetTag("image.width", original.Width);
        activity?.SetTag("image.height", original.Height);

        var folder = VariantFolder(uploadId);
        var sizes = _options.VariantsLargestFirst.Select(v => new VariantSize(v.Key, v.Value)).ToList();
        var variants = new List<ImageVariant>();
        foreach (var encoded in _engine.Render(bytes, original, sizes, cancellationToken))
        {
            // Created only once the first variant exists, so an image that fails to decode leaves nothing behind.
            Directory.CreateDirectory(folder);
            var fileName = $"{encoded.Name}.{encoded.Extension}";
            WriteAtomically(encoded.Bytes.Span, Path.Combine(folder, fileName));
            variants.Add(new ImageVariant(encoded.Name, encoded.Width, encoded.Height, encoded.Format, encoded.Bytes.Length, $"{uploadId}/{fileName}"));
        }

        activity?.SetTag("image.output_format", variants.FirstOrDefault()?.Format);

        // Temporary files of an earlier attempt whose process died mid-write.
        if (Directory.Exists(folder))
        {
            foreach (var leftover in Directory.EnumerateFiles(folder, "*.tmp"))
            {
                File.Delete(leftover);
            }
        }

        // Smallest first, as people list them: thumb, card, detail.
        variants.Reverse();
        return variants;
    }

    /// <summary>
    /// The memory decoding the original will take, from its header: width × height × bytes per pixel
    /// (3 for JPEG, 4 for the rest) and a margin for the largest variant. 0 when the header cannot be
    /// read or the file is a decoder bomb: <see cref="Write"/> refuses those at once.
    /// </summary>
    public long EstimateMemory(string originalKey)
    {
        try
        {
            using var file = File.OpenRead(OriginalPath(originalKey));
            if (DecoderBombs.Find(file) is not null)
            {
                return 0;
            }

            file.Position = 0;
            var info = Image.Identify(Configuration, file, out var format);
            return info is null ? 0 : (long)info.Width * info.Height * (format is JpegFormat ? 3 : 4) + 16L * 1024 * 1024;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return 0;
        }
    }

    /// <summary>The original's file size and pixel count (0 when its header cannot be read), for the operations console.</summary>
    public (long Bytes, long Pixels) MeasureOriginal(string originalKey)
    {
        try
        {
            using var file = File.OpenRead(OriginalPath(originalKey));
            var info = Image.Identify(Configuration, file);
            return (file.Length, info is null ? 0 : (long)info.Width * info.Height);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return (0, 0);
        }
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

    private (byte[] Bytes, OriginalImage Info) ReadOriginal(string path)
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

        // Checked again here: an original stored before the intake check existed, or put there by other means.
        if (DecoderBombs.Find(bytes) is { } bomb)
        {
            throw new UnprocessableImageException(bomb);
        }

        IImageInfo? info;
        IImageFormat? format;
        try
        {
            info = Image.Identify(Configuration, bytes, out format);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw e is UnknownImageFormatException
                ? new UnprocessableImageException(UnprocessableImageException.NotAnImage, e)
                : new UnprocessableImageException(UnprocessableImageException.Corrupt, e);
        }

        if (info is null || format is null)
        {
            throw new UnprocessableImageException(UnprocessableImageException.NotAnImage);
        }

        if (info.Width <= 0 || info.Height <= 0
            || info.Width > _options.MaxSide || info.Height > _options.MaxSide
            || (long)info.Width * info.Height > _options.MaxPixels)
        {
            throw new UnprocessableImageException(
                $"The image is {info.Width}×{info.Height} pixels; the limit is {_options.MaxSide} pixels a side and {_options.MaxPixels / 1_000_000.0:0.#} megapixels.");
        }

        if (!TruncationCheck.IsComplete(format, bytes))
        {
            // ImageSharp 2.1 decodes a cut-off file without complaint, filling the rest with grey.
            throw new UnprocessableImageException("The image file is truncated: it ends before the image does.");
        }

        var kind = format switch
        {
            JpegFormat => OriginalFormat.Jpeg,
            PngFormat => OriginalFormat.Png,
            _ => OriginalFormat.Webp,
        };
        return (bytes, new OriginalImage(info.Width, info.Height, kind));
    }

    private static void WriteAtomically(ReadOnlySpan<byte> bytes, string path)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
