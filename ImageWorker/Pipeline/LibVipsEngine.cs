using System.Text;
using NetVips;
using VipsImage = NetVips.Image;

namespace Reference.ImageWorker.Pipeline;

/// <summary>
/// The default engine (<c>Images:Engine=LibVips</c>): libvips decodes JPEG and WebP already shrunk where the
/// largest variant allows, so it reads fewer pixels (docs/performance.md). Output as <see cref="ImageSharpEngine"/>'s.
/// </summary>
public sealed class LibVipsEngine : IImageEngine
{
    private const string IccField = "icc-profile-data";

    private readonly int _jpegQuality;
    private readonly long _allocationLimitBytes;

    static LibVipsEngine()
    {
        // One thread per job like ImageSharp (the consumer runs one job per core), and no cache of
        // operations or files between jobs: every job is a new image.
        NetVips.NetVips.Concurrency = 1;
        Cache.Max = 0;
        Cache.MaxFiles = 0;
        Cache.MaxMem = 0;
    }

    public LibVipsEngine(int jpegQuality, int allocationLimitMegabytes)
    {
        _jpegQuality = Math.Clamp(jpegQuality, 1, 100);
        _allocationLimitBytes = allocationLimitMegabytes * 1024L * 1024L;
    }

    public IEnumerable<EncodedVariant> Render(byte[] original, OriginalImage info, IReadOnlyList<VariantSize> largestFirst, CancellationToken cancellationToken)
    {
        // libvips streams and would need far less, but an image that ImageSharp could not hold in its
        // per-image budget is refused here too: the limit means the same whichever engine runs.
        if ((long)info.Width * info.Height * (info.Format is OriginalFormat.Jpeg ? 3 : 4) > _allocationLimitBytes)
        {
            throw new UnprocessableImageException(UnprocessableImageException.TooLargeForMemory);
        }

        VipsImage? current = null;
        var transparent = false;
        try
        {
            foreach (var size in largestFirst)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var next = Next(original, info.Format, current, size, transparent);
                current?.Dispose();
                (current, transparent) = (next.Image, next.Transparent);
                yield return next.Variant;
            }
        }
        finally
        {
            current?.Dispose();
        }
    }

    private (VipsImage Image, EncodedVariant Variant, bool Transparent) Next(byte[] original, OriginalFormat format, VipsImage? larger, VariantSize size, bool transparent)
    {
        try
        {
            VipsImage image;
            if (larger is null)
            {
                // Decode, shrink-on-load, resize and turn upright in one pipeline; then held in memory,
                // because libvips is lazy and the smaller variants would otherwise decode it again.
                // PNG and profile-less CMYK need their own decoding first; everything else is one thumbnail call.
                using var source = format is OriginalFormat.Png ? OpaqueWithoutAlpha(original)
                    : IsCmykWithoutProfile(original) ? NaiveCmykToRgb(original)
                    : null;
                using var thumbnail = source?.ThumbnailImage(size.LongestSide, height: size.LongestSide, size: Enums.Size.Down)
                    ?? VipsImage.ThumbnailBuffer(original, size.LongestSide, height: size.LongestSide, size: Enums.Size.Down, failOn: Enums.FailOn.Error);
                // In memory before anything reads it twice: PNG and WebP load sequentially, once.
                using var decoded = thumbnail.CopyMemory();
                image = ForTheWeb(decoded, out transparent);
            }
            else
            {
                using var smaller = larger.ThumbnailImage(size.LongestSide, height: size.LongestSide, size: Enums.Size.Down);
                image = smaller.CopyMemory();
            }

            var bytes = transparent
                ? image.PngsaveBuffer(compression: 6, bitdepth: 8, keep: Enums.ForeignKeep.Icc)
                : image.JpegsaveBuffer(q: _jpegQuality, subsampleMode: Enums.ForeignSubsample.On, keep: Enums.ForeignKeep.Icc);
            return (image, new EncodedVariant(size.Name, image.Width, image.Height, transparent ? "png" : "jpeg", bytes), transparent);
        }
        catch (VipsException e)
        {
            throw new UnprocessableImageException(UnprocessableImageException.Corrupt, e);
        }
    }

    /// <summary>
    /// sRGB, 8 bits, alpha only when some pixel is transparent, and only an RGB ICC profile: the
    /// pixels of a grey or CMYK original no longer match its profile once they are sRGB.
    /// </summary>
    private static VipsImage ForTheWeb(VipsImage image, out bool transparent)
    {
        var web = image.Interpretation == Enums.Interpretation.Srgb && image.Format == Enums.BandFormat.Uchar
            ? image.Copy()
            : image.Colourspace(Enums.Interpretation.Srgb);

        transparent = false;
        if (web.HasAlpha())
        {
            using var alpha = web[web.Bands - 1];
            transparent = alpha.Min() < 255;
            if (!transparent)
            {
                var opaque = web.ExtractBand(0, n: web.Bands - 1);
                web.Dispose();
                web = opaque;
            }
        }

        if (web.GetTypeOf(IccField) != 0 && !IsRgbProfile((byte[])web.Get(IccField)))
        {
            var withoutProfile = web.Mutate(m => m.Remove(IccField));
            web.Dispose();
            web = withoutProfile;
        }

        return web;
    }

    /// <summary>
    /// A PNG has no shrink-on-load, so it is decoded whole anyway; its alpha channel is dropped here
    /// when every pixel is opaque (most "PNG photos"), so the resize runs on 3 bands of bytes instead
    /// of premultiplied floats. The transparency is decided on the original, as ImageSharp does.
    /// </summary>
    private static VipsImage OpaqueWithoutAlpha(byte[] original)
    {
        using var decoded = VipsImage.NewFromBuffer(original, access: Enums.Access.Sequential, failOn: Enums.FailOn.Error);
        var image = decoded.CopyMemory();
        if (!image.HasAlpha())
        {
            return image;
        }

        using var alpha = image[image.Bands - 1];
        if (alpha.Min() < (image.Format == Enums.BandFormat.Ushort ? ushort.MaxValue : byte.MaxValue))
        {
            return image;
        }

        var opaque = image.ExtractBand(0, n: image.Bands - 1);
        image.Dispose();
        return opaque;
    }

    /// <summary>
    /// libvips would read a CMYK JPEG without a profile through a print profile of its own, which
    /// shifts colours; ImageSharp (and most tools that made such files) take the plain inverse, so
    /// this engine does the same and both engines agree.
    /// </summary>
    private static bool IsCmykWithoutProfile(byte[] original)
    {
        if (original.Length < 2 || original[0] != 0xFF || original[1] != 0xD8)
        {
            return false;
        }

        using var header = VipsImage.NewFromBuffer(original, access: Enums.Access.Sequential);
        return header.Interpretation == Enums.Interpretation.Cmyk && header.GetTypeOf(IccField) == 0;
    }

    private static VipsImage NaiveCmykToRgb(byte[] original)
    {
        using var cmyk = VipsImage.NewFromBuffer(original, access: Enums.Access.Sequential, failOn: Enums.FailOn.Error);
        using var cmy = cmyk.ExtractBand(0, n: 3);
        using var k = cmyk[3];
        using var rgb = (255 - cmy) * (255 - k) / 255;
        return rgb.Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
    }

    public byte[] EncodeWebp(byte[] variant)
    {
        try
        {
            using var image = VipsImage.NewFromBuffer(variant, access: Enums.Access.Sequential, failOn: Enums.FailOn.Error);
            // Effort 2 of 0–6: native and cheap enough (docs/performance.md); alpha is kept when the variant has it.
            return image.WebpsaveBuffer(q: ImageSharpEngine.WebpQuality, effort: 2, keep: Enums.ForeignKeep.Icc);
        }
        catch (VipsException e)
        {
            throw new UnprocessableImageException(UnprocessableImageException.Corrupt, e);
        }
    }

    /// <summary>An ICC header names the profile's data colour space at bytes 16–19.</summary>
    private static bool IsRgbProfile(byte[] profile) =>
        profile.Length >= 20 && Encoding.ASCII.GetString(profile, 16, 4) == "RGB ";
}
