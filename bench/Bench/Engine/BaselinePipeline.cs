using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Reference.Contracts;
using Reference.ImageWorker.Pipeline;

namespace Reference.Bench.Engine;

/// <summary>
/// The ImageSharp pipeline as it was first written (ImageWorker commit baff68c), kept only so every
/// run measures the tuned <see cref="ImageSharpEngine"/> against where it started, on the same
/// machine at the same moment. Same work: read, identify, decode, orient the full image, strip,
/// clone-and-resize each variant from the one before, encode, write each file with a flush to disk.
/// </summary>
public sealed class BaselinePipeline(string root)
{
    private readonly Configuration _configuration = ImageSharpEngine.CreateConfiguration(256);
    private readonly JpegEncoder _jpeg = new() { Quality = 82, ColorType = JpegColorType.YCbCrRatio420 };
    private readonly PngEncoder _png = new() { ColorType = PngColorType.RgbWithAlpha, BitDepth = PngBitDepth.Bit8 };

    public void Write(Guid uploadId, string originalPath)
    {
        var bytes = File.ReadAllBytes(originalPath);
        _ = Image.Identify(_configuration, bytes, out var format);
        using var image = format is JpegFormat ? (Image)Image.Load<Rgb24>(_configuration, bytes) : Image.Load<Rgba32>(_configuration, bytes);
        while (image.Frames.Count > 1)
        {
            image.Frames.RemoveFrame(1);
        }

        image.Mutate(x => x.AutoOrient());
        image.Metadata.ExifProfile = null;
        image.Metadata.XmpProfile = null;
        image.Metadata.IptcProfile = null;

        var transparent = image is Image<Rgba32> rgba && HasTransparentPixel(rgba);
        var (encoder, extension) = transparent ? ((IImageEncoder)_png, "png") : (_jpeg, "jpg");
        var folder = Path.Combine(root, ImageStorage.VariantsFolder, uploadId.ToString());
        Directory.CreateDirectory(folder);

        Image? larger = null;
        try
        {
            foreach (var (name, longestSide) in ImageOptions.DefaultVariants.OrderByDescending(v => v.Value))
            {
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

                var path = Path.Combine(folder, $"{name}.{extension}");
                var temporary = path + ".tmp";
                using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920))
                {
                    variant.Save(file, encoder);
                    file.Flush(flushToDisk: true);
                }

                File.Move(temporary, path, overwrite: true);
            }
        }
        finally
        {
            larger?.Dispose();
        }
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
