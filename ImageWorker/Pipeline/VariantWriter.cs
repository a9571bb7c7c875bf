using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using Reference.Contracts;
using Reference.Storage;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;

namespace Reference.ImageWorker.Pipeline;

/// <summary>
/// The image pipeline: checks the original's header (pixel limits, truncation), has the engine decode it
/// once, turn it upright, drop EXIF/XMP/IPTC and make the variants (<see cref="ImageOptions.DefaultVariants"/>)
/// largest first, then puts each in the image store, which makes it visible whole or not at all.
/// </summary>
public sealed class VariantWriter
{
    private static readonly ActivitySource Tracing = new("Reference.ImageWorker");

    private readonly ImageOptions _options;
    private readonly IImageStore _store;
    private readonly IImageEngine _engine;

    /// <param name="engine">The caller's (the benchmarks try variations on one); null means <c>Images:Engine</c>.</param>
    public VariantWriter(IOptions<ImageOptions> options, IImageStore store, IImageEngine? engine = null)
    {
        _options = options.Value;
        _store = store;
        Configuration = ImageSharpEngine.CreateConfiguration(_options.AllocationLimitMegabytes);
        _engine = engine ?? _options.Engine switch
        {
            ImageEngineKind.LibVips => new LibVipsEngine(_options.JpegQuality, _options.AllocationLimitMegabytes),
            _ => new ImageSharpEngine(Configuration, _options.JpegQuality),
        };
    }

    /// <summary>The engine that makes the variants, and their WebP copies (<see cref="WebpCopies"/>).</summary>
    public IImageEngine Engine => _engine;

    /// <summary>ImageSharp's configuration for reading headers (and for decoding, with the ImageSharp engine).</summary>
    public Configuration Configuration { get; }

    /// <summary>Reads and checks the original once; see <see cref="CheckedOriginal"/>.</summary>
    public Task<CheckedOriginal> ReadOriginalAsync(string originalKey, CancellationToken cancellationToken = default) =>
        CheckedOriginal.ReadAsync(_store, originalKey, Configuration, _options, cancellationToken);

    /// <summary>Decodes the original and writes every variant, replacing any written before.</summary>
    /// <exception cref="UnprocessableImageException">The original can never be processed.</exception>
    public async Task<IReadOnlyList<ImageVariant>> WriteAsync(Guid uploadId, string originalKey, CancellationToken cancellationToken = default) =>
        await WriteAsync(uploadId, await ReadOriginalAsync(originalKey, cancellationToken), cancellationToken);

    /// <inheritdoc cref="WriteAsync(Guid, string, CancellationToken)"/>
    public async Task<IReadOnlyList<ImageVariant>> WriteAsync(Guid uploadId, CheckedOriginal checkedOriginal, CancellationToken cancellationToken = default)
    {
        using var activity = Tracing.StartActivity("write image variants");
        activity?.SetTag("upload.id", uploadId);
        activity?.SetTag("image.engine", _options.Engine.ToString());

        var (bytes, original) = checkedOriginal.GetOrThrow();
        activity?.SetTag("image.width", original.Width);
        activity?.SetTag("image.height", original.Height);

        var folder = ImageStorage.VariantFolderKey(uploadId);
        var sizes = _options.VariantsLargestFirst.Select(v => new VariantSize(v.Key, v.Value)).ToList();
        var variants = new List<ImageVariant>();
        // Nothing is stored before the first variant exists, so an image that fails to decode leaves nothing behind.
        foreach (var encoded in _engine.Render(bytes, original, sizes, cancellationToken))
        {
            var fileName = $"{encoded.Name}.{encoded.Extension}";
            using var content = MemoryMarshal.TryGetArray(encoded.Bytes, out var array)
                ? new MemoryStream(array.Array!, array.Offset, array.Count, writable: false)
                : new MemoryStream(encoded.Bytes.ToArray(), writable: false);
            await _store.PutAsync($"{folder}/{fileName}", content, cancellationToken);
            variants.Add(new ImageVariant(encoded.Name, encoded.Width, encoded.Height, encoded.Format, encoded.Bytes.Length, $"{uploadId}/{fileName}"));
        }

        activity?.SetTag("image.output_format", variants.FirstOrDefault()?.Format);

        // Temporary files of an earlier attempt whose process died mid-write (only a folder has them).
        await foreach (var leftover in _store.ListAsync(folder, cancellationToken: cancellationToken))
        {
            if (leftover.Key.EndsWith(".tmp", StringComparison.Ordinal))
            {
                await _store.DeleteAsync(leftover.Key, cancellationToken);
            }
        }

        // Smallest first, as people list them: thumb, card, detail.
        variants.Reverse();
        return variants;
    }

    /// <summary>
    /// The variants of an earlier complete run, read back from the store, or null when any is missing.
    /// Variants are only ever stored whole, so one that exists is complete.
    /// </summary>
    public async Task<IReadOnlyList<ImageVariant>?> FindExistingAsync(Guid uploadId, CancellationToken cancellationToken = default)
    {
        var folder = ImageStorage.VariantFolderKey(uploadId);
        var variants = new List<ImageVariant>();
        foreach (var (name, _) in _options.VariantsLargestFirst)
        {
            byte[]? bytes = null;
            string? fileName = null;
            foreach (var candidate in new[] { $"{name}.jpg", $"{name}.png" })
            {
                await using var stored = await _store.GetAsync($"{folder}/{candidate}", cancellationToken);
                if (stored is not null)
                {
                    (bytes, fileName) = (await stored.ReadAllBytesAsync(cancellationToken), candidate);
                    break;
                }
            }

            if (bytes is null)
            {
                return null;
            }

            var info = Image.Identify(Configuration, bytes, out var format);
            if (info is null)
            {
                return null;
            }

            variants.Add(new ImageVariant(name, info.Width, info.Height, format is PngFormat ? "png" : "jpeg", bytes.Length, $"{uploadId}/{fileName}"));
        }

        variants.Reverse();
        return variants;
    }

    /// <summary>The <see cref="BlurPlaceholder"/> of written variants, from the smallest (read back: a few KB), or null.</summary>
    /// <param name="smallestFirst">The variants as <see cref="WriteAsync(Guid, CheckedOriginal, CancellationToken)"/> returns them.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public async Task<string?> MakePlaceholderAsync(IReadOnlyList<ImageVariant> smallestFirst, CancellationToken cancellationToken = default)
    {
        if (smallestFirst.Count == 0)
        {
            return null;
        }

        await using var stored = await _store.GetAsync($"{ImageStorage.VariantsFolder}/{smallestFirst[0].Key}", cancellationToken);
        return stored is null ? null : BlurPlaceholder.Make(await stored.ReadAllBytesAsync(cancellationToken), Configuration);
    }

    /// <summary>Removes whatever an unfinished attempt left for the upload.</summary>
    public Task DeleteVariantsAsync(Guid uploadId, CancellationToken cancellationToken = default) =>
        _store.DeleteFolderAsync(ImageStorage.VariantFolderKey(uploadId), cancellationToken);
}
