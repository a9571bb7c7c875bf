using System.Text;
using Microsoft.Extensions.Options;
using Reference.Contracts;
using Reference.ImageWorker.Pipeline;
using Reference.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Reference.ImageWorker.Tests.Pipeline;

/// <summary>Every engine (<c>Images:Engine</c>) is held to the same behaviour: one subclass each, below.</summary>
public abstract class VariantWriterTests : IDisposable
{
    private static readonly Dictionary<string, int> DefaultSizes = new() { ["thumb"] = 200, ["card"] = 600, ["detail"] = 1600 };

    private readonly ImageEngineKind _engine;
    private readonly TestStorage _storage = new();
    private readonly VariantWriter _writer;

    protected VariantWriterTests(ImageEngineKind engine)
    {
        _engine = engine;
        _writer = CreateWriter(new ImageOptions());
    }

    public static TheoryData<string> CorpusImages()
    {
        var data = new TheoryData<string>();
        foreach (var path in Corpus.AllImages())
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CorpusImages))]
    public void Every_corpus_image_gets_each_variant_by_longest_side_with_its_aspect_ratio_and_never_upscaled(string fileName)
    {
        var (uprightWidth, uprightHeight) = UprightSize(Corpus.Path(fileName));
        var uploadId = Guid.NewGuid();

        var variants = _writer.Write(uploadId, _storage.AddOriginal(uploadId, Corpus.Path(fileName)));

        Assert.Equal(["thumb", "card", "detail"], variants.Select(v => v.Name));
        foreach (var variant in variants)
        {
            var expectedLongest = Math.Min(DefaultSizes[variant.Name], Math.Max(uprightWidth, uprightHeight));
            Assert.Equal(expectedLongest, Math.Max(variant.Width, variant.Height));
            Assert.Equal(uprightWidth >= uprightHeight, variant.Width >= variant.Height);
            // Aspect ratio kept to within the rounding of one pixel on the shorter side.
            var expectedShorter = (double)Math.Min(uprightWidth, uprightHeight) * expectedLongest / Math.Max(uprightWidth, uprightHeight);
            Assert.InRange(Math.Min(variant.Width, variant.Height), expectedShorter - 1, expectedShorter + 1);

            var path = _storage.VariantPath(variant.Key);
            Assert.Equal(new FileInfo(path).Length, variant.Bytes);
            using var written = Image.Load(path, out var format);
            Assert.Equal((variant.Width, variant.Height), (written.Width, written.Height));
            Assert.Equal(variant.Format, format is PngFormat ? "png" : "jpeg");
            Assert.Equal($"{uploadId}/{variant.Name}.{(variant.Format == "png" ? "png" : "jpg")}", variant.Key);
            AssertNoPersonalMetadata(written, File.ReadAllBytes(path));
        }

        Assert.Empty(Directory.GetFiles(_writer.VariantFolder(uploadId), "*.tmp"));
    }

    [Fact]
    public void A_photo_with_exif_orientation_6_comes_out_upright_without_gps_make_or_model()
    {
        var original = Corpus.Path("kite-orient6-gps.jpg");
        using (var stored = Image.Load(original))
        {
            // The premise: stored portrait, rotated by EXIF, carrying GPS and camera tags.
            Assert.True(stored.Height > stored.Width);
            Assert.NotNull(stored.Metadata.ExifProfile?.GetValue(ExifTag.GPSLatitude));
            Assert.NotNull(stored.Metadata.ExifProfile?.GetValue(ExifTag.Make));
        }

        var uploadId = Guid.NewGuid();
        var variants = _writer.Write(uploadId, _storage.AddOriginal(uploadId, original));

        Assert.Equal(3, variants.Count);
        foreach (var variant in variants)
        {
            Assert.True(variant.Width > variant.Height, $"{variant.Name} is {variant.Width}×{variant.Height}, not landscape.");
            var bytes = File.ReadAllBytes(_storage.VariantPath(variant.Key));
            using var written = Image.Load(bytes);
            Assert.True(written.Width > written.Height);
            AssertNoPersonalMetadata(written, bytes);
            Assert.DoesNotContain("ExampleCam", Encoding.Latin1.GetString(bytes), StringComparison.Ordinal);
            Assert.DoesNotContain("Corpus", Encoding.Latin1.GetString(bytes), StringComparison.Ordinal);
        }

        // Landscape alone would pass upside down: the corpus keeps the same photo stored upright.
        var uprightId = Guid.NewGuid();
        var upright = _writer.Write(uprightId, _storage.AddOriginal(uprightId, Corpus.Path("kite-2560x1600.jpg")));
        using var turned = Image.Load<Rgb24>(_storage.VariantPath(variants[0].Key));
        using var reference = Image.Load<Rgb24>(_storage.VariantPath(upright[0].Key));
        Assert.InRange(MeanDifference(turned, reference), 0, 8);
        turned.Mutate(x => x.Rotate(RotateMode.Rotate180));
        Assert.InRange(MeanDifference(turned, reference), 30, 255);
    }

    [Fact]
    public void An_rgb_colour_profile_is_kept_on_every_variant_so_colours_render_as_shot()
    {
        var original = Corpus.Path("cups-2560x1600-exif.jpg");
        using var stored = Image.Load(original);
        var profile = stored.Metadata.IccProfile?.ToByteArray();
        Assert.NotNull(profile);
        var uploadId = Guid.NewGuid();

        var variants = _writer.Write(uploadId, _storage.AddOriginal(uploadId, original));

        foreach (var variant in variants)
        {
            using var written = Image.Load(_storage.VariantPath(variant.Key));
            Assert.Equal(profile, written.Metadata.IccProfile?.ToByteArray());
        }
    }

    [Fact]
    public void An_image_with_transparent_pixels_becomes_png_and_keeps_its_transparency()
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

        var variants = _writer.Write(uploadId, _storage.AddOriginal(uploadId, TestImages.Png(image), "png"));

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
    public void A_png_whose_pixels_are_all_opaque_becomes_jpeg()
    {
        using var image = TestImages.Gradient(900, 600);
        var uploadId = Guid.NewGuid();

        var variants = _writer.Write(uploadId, _storage.AddOriginal(uploadId, TestImages.Png(image), "png"));

        Assert.All(variants, v => Assert.Equal("jpeg", v.Format));
        Assert.All(variants, v => Assert.EndsWith(".jpg", v.Key, StringComparison.Ordinal));
    }

    [Fact]
    public void A_greyscale_jpeg_becomes_an_ordinary_jpeg_that_stays_grey()
    {
        using var source = TestImages.Gradient(1000, 700);
        var bytes = TestImages.Jpeg(source, JpegColorType.Luminance);
        using (var check = Image.Load(bytes))
        {
            Assert.Equal(JpegColorType.Luminance, check.Metadata.GetJpegMetadata().ColorType);
        }

        var uploadId = Guid.NewGuid();
        var variants = _writer.Write(uploadId, _storage.AddOriginal(uploadId, bytes, "jpg"));

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
    public void A_cmyk_jpeg_becomes_an_rgb_jpeg_with_its_colours_right()
    {
        // ImageSharp 2.1 cannot write CMYK: see Fixtures/README.md for how this one was made.
        var original = Path.Combine(AppContext.BaseDirectory, "Fixtures", "cmyk-red-blue-96x64.jpg");
        var bytes = File.ReadAllBytes(original);
        var frameHeader = bytes.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
        Assert.Equal(4, bytes[frameHeader + 9]); // four components: C, M, Y, K

        var uploadId = Guid.NewGuid();
        var variants = _writer.Write(uploadId, _storage.AddOriginal(uploadId, original));

        Assert.All(variants, v => Assert.Equal((96, 64, "jpeg"), (v.Width, v.Height, v.Format)));
        using var written = Image.Load<Rgb24>(_storage.VariantPath(variants[0].Key));
        Assert.Equal(JpegColorType.YCbCrRatio420, written.Metadata.GetJpegMetadata().ColorType);
        AssertClose(new Rgb24(200, 40, 40), written[20, 32]);
        AssertClose(new Rgb24(40, 60, 200), written[76, 32]);
    }

    [Fact]
    public void A_small_image_is_never_upscaled_and_each_variant_has_its_size()
    {
        using var image = TestImages.Gradient(300, 150);
        var uploadId = Guid.NewGuid();

        var variants = _writer.Write(uploadId, _storage.AddOriginal(uploadId, TestImages.Jpeg(image, JpegColorType.YCbCrRatio420), "jpg"));

        Assert.Equal([(200, 100), (300, 150), (300, 150)], variants.Select(v => (v.Width, v.Height)));
    }

    [Fact]
    public void The_variants_and_their_sizes_come_from_configuration()
    {
        var writer = CreateWriter(new ImageOptions { Variants = new() { ["small"] = 64, ["large"] = 1000 } });
        var uploadId = Guid.NewGuid();

        var variants = writer.Write(uploadId, _storage.AddOriginal(uploadId, Corpus.Path("kite-2560x1600.jpg")));

        Assert.Equal([("small", 64, 40), ("large", 1000, 625)], variants.Select(v => (v.Name, v.Width, v.Height)));
        Assert.Equal(["large.jpg", "small.jpg"], Directory.GetFiles(writer.VariantFolder(uploadId)).Select(Path.GetFileName).Order());
    }

    public static TheoryData<string, byte[], string> UnprocessableOriginals()
    {
        var jpeg = File.ReadAllBytes(Corpus.Path("kite-2560x1600.jpg"));
        var png = File.ReadAllBytes(Corpus.Path("elarun-2560x1600.png"));
        var webp = File.ReadAllBytes(Corpus.Path("wood.webp"));
        var corruptHeader = (byte[])jpeg.Clone();
        // Junk over the segments after the start marker, as a damaged transfer would leave.
        Array.Fill(corruptHeader, (byte)0x5A, 2, 4000);
        return new TheoryData<string, byte[], string>
        {
            { "empty file", [], "not a JPEG, PNG or WebP" },
            { "text named .jpg", Encoding.UTF8.GetBytes("hello, this is not an image\n"), "not a JPEG, PNG or WebP" },
            { "html named .jpg", Encoding.UTF8.GetBytes("<!doctype html><html><body>hi</body></html>"), "not a JPEG, PNG or WebP" },
            { "svg", Encoding.UTF8.GetBytes("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>"), "not a JPEG, PNG or WebP" },
            { "truncated jpeg", jpeg[..(jpeg.Length / 3)], "truncated" },
            { "jpeg with a corrupted header", corruptHeader, "corrupt" },
            { "truncated png", png[..(png.Length / 2)], "truncated" },
            { "truncated webp", webp[..(webp.Length / 2)], "truncated" },
            { "png header claiming 100000x100000", PngBytes.Claiming(100_000, 100_000), "the limit is" },
        };
    }

    [Theory]
    [MemberData(nameof(UnprocessableOriginals))]
    public void An_original_that_cannot_be_processed_fails_permanently_with_a_reason_for_people(string what, byte[] bytes, string reasonContains)
    {
        var uploadId = Guid.NewGuid();
        var key = _storage.AddOriginal(uploadId, bytes, "jpg");

        var failure = Assert.Throws<UnprocessableImageException>(() => _writer.Write(uploadId, key));

        Assert.Contains(reasonContains, failure.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(Directory.Exists(_writer.VariantFolder(uploadId)) && Directory.EnumerateFiles(_writer.VariantFolder(uploadId)).Any(), what);
    }

    [Fact]
    public void An_image_needing_a_buffer_over_the_memory_limit_fails_permanently()
    {
        var writer = CreateWriter(new ImageOptions { AllocationLimitMegabytes = 4 });
        var uploadId = Guid.NewGuid();
        var key = _storage.AddOriginal(uploadId, Corpus.Path("kite-2560x1600.jpg"));

        var failure = Assert.Throws<UnprocessableImageException>(() => writer.Write(uploadId, key));

        Assert.Contains("more memory", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_original_or_a_key_outside_storage_fails_permanently()
    {
        Assert.Contains("missing", Assert.Throws<UnprocessableImageException>(() => _writer.Write(Guid.NewGuid(), "originals/nothing.jpg")).Message);
        Assert.Contains("outside", Assert.Throws<UnprocessableImageException>(() => _writer.Write(Guid.NewGuid(), "../../etc/passwd")).Message);
    }

    [Fact]
    public void Existing_variants_are_found_as_written_and_not_when_one_is_missing()
    {
        var uploadId = Guid.NewGuid();
        Assert.Null(_writer.FindExisting(uploadId));

        var written = _writer.Write(uploadId, _storage.AddOriginal(uploadId, Corpus.Path("leaf-2560x1600.jpg")));

        Assert.Equal(written, _writer.FindExisting(uploadId));
        File.Delete(_storage.VariantPath(written[0].Key));
        Assert.Null(_writer.FindExisting(uploadId));
    }

    public void Dispose() => _storage.Dispose();

    private VariantWriter CreateWriter(ImageOptions options)
    {
        options.Engine = _engine;
        return new(Options.Create(options), Options.Create(new ImageStorage { Root = _storage.Root }));
    }

    private static (int Width, int Height) UprightSize(string path)
    {
        var info = Image.Identify(path);
        var orientation = info.Metadata.ExifProfile?.GetValue(ExifTag.Orientation)?.Value ?? 1;
        return orientation >= 5 ? (info.Height, info.Width) : (info.Width, info.Height);
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

    private static void AssertNoPersonalMetadata(Image written, byte[] bytes)
    {
        Assert.Null(written.Metadata.ExifProfile);
        Assert.Null(written.Metadata.XmpProfile);
        Assert.Null(written.Metadata.IptcProfile);
        var text = Encoding.Latin1.GetString(bytes);
        Assert.DoesNotContain("Exif\0\0", text, StringComparison.Ordinal);
        Assert.DoesNotContain("http://ns.adobe.com/xap/1.0/", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Photoshop 3.0", text, StringComparison.Ordinal);
    }
}

public sealed class ImageSharpVariantWriterTests() : VariantWriterTests(ImageEngineKind.ImageSharp);

public sealed class LibVipsVariantWriterTests() : VariantWriterTests(ImageEngineKind.LibVips);
