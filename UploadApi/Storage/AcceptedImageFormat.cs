using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;

namespace Reference.UploadApi.Storage;

/// <summary>
/// The formats an upload may have, told apart by their first bytes only: the client's file
/// name and Content-Type are never trusted.
/// </summary>
public sealed record AcceptedImageFormat(string ContentType, string Extension)
{
    public static readonly AcceptedImageFormat Jpeg = new("image/jpeg", "jpg");
    public static readonly AcceptedImageFormat Png = new("image/png", "png");
    public static readonly AcceptedImageFormat Webp = new("image/webp", "webp");

    /// <summary>Bytes needed to tell every accepted format apart.</summary>
    public const int SignatureLength = 12;

    /// <summary>
    /// Reads headers of the accepted formats only, so a file that sniffed as JPEG is never
    /// handed to, say, a TIFF or BMP decoder.
    /// </summary>
    public static readonly Configuration HeaderConfiguration = new(
        new JpegConfigurationModule(), new PngConfigurationModule(), new WebpConfigurationModule());

    public static AcceptedImageFormat? FromSignature(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return Jpeg;
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return Png;
        }

        if (head.Length >= 12 && head[..4].SequenceEqual("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8))
        {
            return Webp;
        }

        return null;
    }
}
