using Reference.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace Reference.ImageWorker.Tests.Pipeline;

public abstract partial class VariantWriterTests
{
    [Fact]
    public async Task An_rgb_colour_profile_is_kept_on_every_variant_so_colours_render_as_shot()
    {
        var original = Corpus.Path("cups-2560x1600-exif.jpg");
        using var stored = Image.Load(original);
        var profile = stored.Metadata.IccProfile?.ToByteArray();
        Assert.NotNull(profile);
        var uploadId = Guid.NewGuid();

        var variants = await _writer.WriteAsync(uploadId, _storage.AddOriginal(uploadId, original));

        foreach (var variant in variants)
        {
            using var written = Image.Load(_storage.VariantPath(variant.Key));
            Assert.Equal(profile, written.Metadata.IccProfile?.ToByteArray());
        }
    }

    [Fact]
    public async Task An_image_with_transparent_pixels_becomes_png_and_keeps_its_transparency()
    {
        using var image = TestImages.Gradient(1200, 800);
        // A transparent border, like a cut-out product shot.
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < 100; y++)
            {
                foreach (ref var pixel in rows.GetRowSpan(y))
                {
                    pixel.A = 0;
                }
            }
        });
        var uploadId = Guid.NewGuid();

        var variants = await _writer.WriteAsync(uploadId, _storage.AddOriginal(uploadId, TestImages.Png(image), "png"));

        Assert.All(variants, v => Assert.Equal("png", v.Format));
        Assert.All(variants, v => Assert.EndsWith(".png", v.Key, StringComparison.Ordinal));
        foreach (var variant in variants)
        {
            using var written = Image.Load<Rgba32>(_storage.VariantPath(variant.Key));
            Assert.Equal(0, written[written.Width / 2, 0].A);
            Assert.Equal(255, written[written.Width / 2, written.Height - 1].A);
        }
    }

    [Fact]
    public async Task A_png_whose_pixels_are_all_opaque_becomes_jpeg()
    {
        using var image = TestImages.Gradient(900, 600);
        var uploadId = Guid.NewGuid();

        var variants = await _writer.WriteAsync(uploadId, _storage.AddOriginal(uploadId, TestImages.Png(image), "png"));

        Assert.All(variants, v => Assert.Equal("jpeg", v.Format));
        Assert.All(variants, v => Assert.EndsWith(".jpg", v.Key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_greyscale_jpeg_becomes_an_ordinary_jpeg_that_stays_grey()
    {
        using var source = TestImages.Gradient(1000, 700);
        var bytes = TestImages.Jpeg(source, JpegColorType.Luminance);
        using (var check = Image.Load(bytes))
        {
            Assert.Equal(JpegColorType.Luminance, check.Metadata.GetJpegMetadata().ColorType);
        }

        var uploadId = Guid.NewGuid();
        var variants = await _writer.WriteAsync(uploadId, _storage.AddOriginal(uploadId, bytes, "jpg"));

        Assert.Equal([(200, 140), (600, 420), (1000, 700)], variants.Select(v => (v.Width, v.Height)));
        foreach (var variant in variants)
        {
            using var written = Image.Load<Rgb24>(_storage.VariantPath(variant.Key));
            Assert.Equal(JpegColorType.YCbCrRatio420, written.Metadata.GetJpegMetadata().ColorType);
            var centre = written[written.Width / 2, written.Height / 2];
            Assert.InRange(Math.Max(centre.R, Math.Max(centre.G, centre.B)) - Math.Min(centre.R, Math.Min(centre.G, centre.B)), 0, 6);
        }
    }

    [Fact]
    public async Task A_cmyk_jpeg_becomes_an_rgb_jpeg_with_its_colours_right()
    {
        // ImageSharp 2.1 cannot write CMYK: see Fixtures/README.md for how this one was made.
        var original = Path.Combine(AppContext.BaseDirectory, "Fixtures", "cmyk-red-blue-96x64.jpg");
        var bytes = File.ReadAllBytes(original);
        var frameHeader = bytes.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
        Assert.Equal(4, bytes[frameHeader + 9]); // four components: C, M, Y, K

        var uploadId = Guid.NewGuid();
        var variants = await _writer.WriteAsync(uploadId, _storage.AddOriginal(uploadId, original));

        Assert.All(variants, v => Assert.Equal((96, 64, "jpeg"), (v.Width, v.Height, v.Format)));
        using var written = Image.Load<Rgb24>(_storage.VariantPath(variants[0].Key));
        Assert.Equal(JpegColorType.YCbCrRatio420, written.Metadata.GetJpegMetadata().ColorType);
        AssertClose(new Rgb24(200, 40, 40), written[20, 32]);
        AssertClose(new Rgb24(40, 60, 200), written[76, 32]);
    }

    private static double MeanDifference(Image<Rgb24> a, Image<Rgb24> b)
    {
        Assert.Equal(a.Size(), b.Size());
        long sum = 0;
        for (var y = 0; y < a.Height; y++)
        {
            for (var x = 0; x < a.Width; x++)
            {
                sum += Math.Abs(a[x, y].R - b[x, y].R) + Math.Abs(a[x, y].G - b[x, y].G) + Math.Abs(a[x, y].B - b[x, y].B);
            }
        }

        return sum / (3.0 * a.Width * a.Height);
    }

    private static void AssertClose(Rgb24 expected, Rgb24 actual)
    {
        const int tolerance = 24;
        Assert.True(Math.Abs(expected.R - actual.R) <= tolerance && Math.Abs(expected.G - actual.G) <= tolerance
            && Math.Abs(expected.B - actual.B) <= tolerance, $"Expected about {expected}, got {actual}.");
    }
}
