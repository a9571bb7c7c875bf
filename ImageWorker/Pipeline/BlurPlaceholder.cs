using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Reference.ImageWorker.Pipeline;

/// <summary>
/// An image's placeholder: its smallest variant shrunk to <see cref="LongestSide"/> px as a WebP <c>data:</c> URI,
/// which the pages stretch under the image until it loads (the browser's scaling blurs it). WebP because a JPEG
/// this small is mostly its own tables (about 650 bytes against about 150).
/// </summary>
public static class BlurPlaceholder
{
    public const int LongestSide = 20;

    private static readonly WebpEncoder Encoder = new() { FileFormat = WebpFileFormatType.Lossy, Quality = 50, Method = WebpEncodingMethod.Default };

    /// <summary>The data URI, or null when <paramref name="smallestVariant"/> cannot be read (the upload is Ready without one).</summary>
    /// <param name="smallestVariant">The encoded bytes of the upload's smallest variant (JPEG or PNG).</param>
    /// <param name="configuration">The pipeline's ImageSharp configuration (its formats and allocation limit).</param>
    public static string? Make(byte[] smallestVariant, Configuration configuration)
    {
        try
        {
            using var image = Image.Load<Rgba32>(configuration, smallestVariant);
            image.Mutate(x => x.Resize(new ResizeOptions { Size = new Size(LongestSide, LongestSide), Mode = ResizeMode.Max }));
            using var encoded = new MemoryStream();
            image.Save(encoded, Encoder);
            return "data:image/webp;base64," + Convert.ToBase64String(encoded.GetBuffer(), 0, (int)encoded.Length);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // ImageSharp 2.1 throws more than its own exceptions on bad bytes; a placeholder is never worth failing an upload.
            return null;
        }
    }
}
