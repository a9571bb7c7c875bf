using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Reference.ImageWorker.Tests;

/// <summary>Images the corpus lacks, made on the spot.</summary>
public static class TestImages
{
    /// <summary>A landscape photo-like gradient, so the encoders have real work.</summary>
    public static Image<Rgba32> Gradient(int width, int height, byte alpha = 255)
    {
        var image = new Image<Rgba32>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    row[x] = new Rgba32((byte)(x * 255 / width), (byte)(y * 255 / height), 160, alpha);
                }
            }
        });
        return image;
    }

    public static byte[] Jpeg(Image image, JpegColorType colorType)
    {
        using var stream = new MemoryStream();
        image.Save(stream, new JpegEncoder { Quality = 90, ColorType = colorType });
        return stream.ToArray();
    }

    public static byte[] Png(Image image)
    {
        using var stream = new MemoryStream();
        image.Save(stream, new PngEncoder { ColorType = PngColorType.RgbWithAlpha });
        return stream.ToArray();
    }
}
