using System.Runtime.ExceptionServices;
using Reference.Contracts;
using Reference.Storage;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;

namespace Reference.ImageWorker.Pipeline;

/// <summary>
/// An original read from storage and checked once (decoder bombs, pixel limits, truncation), before the job
/// waits for its memory: what decoding it will take, and its bytes or why it cannot be processed.
/// Reading never throws; <see cref="VariantWriter.WriteAsync(Guid, CheckedOriginal, CancellationToken)"/> rethrows.
/// </summary>
public sealed class CheckedOriginal
{
    private readonly byte[] _bytes = [];
    private readonly OriginalImage? _image;
    private readonly ExceptionDispatchInfo? _failure;

    private CheckedOriginal(byte[] bytes, OriginalImage image)
    {
        _bytes = bytes;
        _image = image;
        // Width × height × bytes per pixel (3 for JPEG, 4 for the rest) and a margin for the largest variant.
        EstimatedMemory = (long)image.Width * image.Height * (image.Format == OriginalFormat.Jpeg ? 3 : 4) + 16L * 1024 * 1024;
    }

    private CheckedOriginal(Exception failure) => _failure = ExceptionDispatchInfo.Capture(failure);

    /// <summary>The memory decoding it takes; 0 for an original that is refused at once.</summary>
    public long EstimatedMemory { get; }

    /// <summary>The file's size and its pixels (0 when refused), for the operations console.</summary>
    public long FileBytes => _bytes.Length;

    public long Pixels => _image is null ? 0 : (long)_image.Width * _image.Height;

    internal (byte[] Bytes, OriginalImage Image) GetOrThrow()
    {
        _failure?.Throw();
        return (_bytes, _image!);
    }

    internal static async Task<CheckedOriginal> ReadAsync(
        IImageStore store, string originalKey, Configuration configuration, ImageOptions options, CancellationToken cancellationToken)
    {
        try
        {
            var bytes = await ReadBytesAsync(store, originalKey, cancellationToken);
            return new CheckedOriginal(bytes, Check(bytes, configuration, options));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Unprocessable ones fail the job; any other (the store unreachable) is transient and retried.
            return new CheckedOriginal(e);
        }
    }

    private static async Task<byte[]> ReadBytesAsync(IImageStore store, string originalKey, CancellationToken cancellationToken)
    {
        if (!StorageKeys.IsSafe(originalKey))
        {
            throw new UnprocessableImageException($"The original's key '{originalKey}' is outside the image storage.");
        }

        // Read whole (UploadApi caps originals at ImageLimits.MaxBytes).
        await using var stored = await store.GetAsync(originalKey, cancellationToken)
            // UploadApi stores the original before it publishes, so a missing one will not appear later.
            ?? throw new UnprocessableImageException("The original file is missing from storage.");
        return await stored.ReadAllBytesAsync(cancellationToken);
    }

    private static OriginalImage Check(byte[] bytes, Configuration configuration, ImageOptions options)
    {
        // Checked again here: an original stored before the intake check existed, or put there by other means.
        // Before Identify, which inflates a PNG's compressed metadata whole.
        if (DecoderBombs.Find(bytes) is { } bomb)
        {
            throw new UnprocessableImageException(bomb);
        }

        IImageInfo? info;
        IImageFormat? format;
        try
        {
            info = Image.Identify(configuration, bytes, out format);
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
            || info.Width > options.MaxSide || info.Height > options.MaxSide
            || (long)info.Width * info.Height > options.MaxPixels)
        {
            throw new UnprocessableImageException(
                $"The image is {info.Width}×{info.Height} pixels; the limit is {options.MaxSide} pixels a side and {options.MaxPixels / 1_000_000.0:0.#} megapixels.");
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
        return new OriginalImage(info.Width, info.Height, kind);
    }
}
