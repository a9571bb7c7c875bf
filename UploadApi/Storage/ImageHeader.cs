using Reference.Contracts;
using SixLabors.ImageSharp;

namespace Reference.UploadApi.Storage;

/// <summary>
/// The dimensions an original declares, read from its header without decoding its pixels:
/// the pixel-flood guard runs before a worker ever allocates memory for the image.
/// </summary>
public sealed record ImageHeader(int Width, int Height, string? Problem)
{
    public static async Task<ImageHeader> ReadAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, useAsync: true);
            // Before ImageSharp, which inflates compressed PNG text whole even to read a header.
            if (DecoderBombs.Find(file) is { } bomb)
            {
                return new ImageHeader(0, 0, bomb);
            }

            file.Position = 0;
            var info = await Image.IdentifyAsync(AcceptedImageFormat.HeaderConfiguration, file, cancellationToken);
            return info is null || info.Width <= 0 || info.Height <= 0
                ? new ImageHeader(0, 0, "The image header could not be read.")
                : new ImageHeader(info.Width, info.Height, null);
        }
        catch (Exception e) when (e is EndOfStreamException || e is not (OperationCanceledException or IOException))
        {
            // Any decoder exception on a header is the file's fault, never the server's.
            return new ImageHeader(0, 0, $"The image header could not be read: {e.Message}");
        }
    }
}
